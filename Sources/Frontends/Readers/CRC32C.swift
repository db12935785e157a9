import CKernels

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TensorFlow writes for
/// every block of a checkpoint's `.index` table and for every tensor in its `.data-*` files.
///
/// zlib's `crc32` uses a different polynomial, so this one is computed here: with the CPU's CRC
/// instruction where it has one (x86-64 SSE4.2, several GB/s: `oe_crc32c_hardware`), else by
/// slicing-by-8 over eight 256-entry tables (1–2 GB/s). Feed bytes in any chunking; the result
/// is the same.
///
/// ```swift
/// var crc = CRC32C()
/// crc.update(chunk1); crc.update(chunk2)
/// let stored = CRC32C.mask(crc.value)   // what TensorFlow writes on disk
/// ```
struct CRC32C {
    /// The checksum of all bytes fed so far (0 for none).
    private(set) var value: UInt32 = 0

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = Self.extend(value, bytes)
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of `bytes` in one call.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// LevelDB/TensorFlow store `mask(crc)` rather than the CRC itself, because the CRC of data
    /// that embeds CRCs is otherwise prone to degenerate values. `mask(c) = rotr(c, 15) + 0xa282ead8`.
    static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// The inverse of `mask`.
    static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }

    private static let maskDelta: UInt32 = 0xa282_ead8

    /// Continues `crc` over `bytes`: the CPU's instruction where there is one, else the tables.
    private static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var register = ~crc
        if let base = bytes.baseAddress, oe_crc32c_hardware(&register, base, bytes.count) != 0 { return ~register }
        return extendWithTables(crc, bytes)
    }

    /// Continues `crc` over `bytes` by slicing-by-8, then a byte at a time for the tail (internal
    /// so tests can hold the two ways to each other).
    static func extendWithTables(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        var index = 0
        let count = bytes.count
        tables.withUnsafeBufferPointer { t in
            while count - index >= 8 {
                let low = bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ c
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(low & 0xff)] ^ t[6 * 256 + Int((low >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xff)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xff)] ^ t[2 * 256 + Int((high >> 8) & 0xff)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xff)] ^ t[Int(high >> 24)]
                index += 8
            }
            while index < count {
                c = t[Int((c ^ UInt32(bytes[index])) & 0xff)] ^ (c >> 8)
                index += 1
            }
        }
        return ~c
    }

    /// Table `k` (at `k * 256`) advances the CRC past a byte followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        let polynomial: UInt32 = 0x82F6_3B78
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[n] = c
        }
        for n in 0..<256 {
            for k in 1..<8 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = t[Int(previous & 0xff)] ^ (previous >> 8)
            }
        }
        return t
    }()
}
