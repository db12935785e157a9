/// Little-endian fields of zip records, and the overflow-safe arithmetic their offsets need.
///
/// Record readers first read a record's fixed part into an array of exactly its size, so every
/// field offset used with these accessors is inside the array by construction; variable parts
/// (names, extra fields) are checked against their declared lengths before they are sliced.
enum ZipFields {
    static func uint16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func uint64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    /// A 64-bit size or offset as an `Int`, or nil when it does not fit (a hostile Zip64 field).
    static func int(_ value: UInt64) -> Int? { Int(exactly: value) }

    /// `a + b`, or nil on overflow: offsets and lengths come from the file and may be anything.
    static func sum(_ a: Int, _ b: Int) -> Int? {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : total
    }

    /// True when `[offset, offset + length)` lies inside a file of `size` bytes.
    static func fits(offset: Int, length: Int, in size: Int) -> Bool {
        guard offset >= 0, length >= 0, let end = sum(offset, length) else { return false }
        return end <= size
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
