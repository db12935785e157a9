import CZlib

/// The zip CRC-32 (zlib's `crc32`, reflected polynomial 0xEDB88320), fed in any chunking.
struct ZipCRC32 {
    private(set) var value: UInt32 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        // zlib takes a 32-bit length; feed it at most 1 GiB at a time.
        while done < bytes.count {
            let n = min(bytes.count - done, 1 << 30)
            value = UInt32(truncatingIfNeeded: crc32(uLong(value), base.assumingMemoryBound(to: Bytef.self) + done, uInt(n)))
            done += n
        }
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = ZipCRC32()
        crc.update(bytes)
        return crc.value
    }
}
