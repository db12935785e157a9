/// A problem found while decoding protobuf bytes or an SSTable block: a sentence without the file
/// name, which the caller (who knows the file and the key) puts in front.
struct WireFormatError: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}

/// A cursor over protobuf wire-format bytes, enough to read the few small messages a TensorFlow
/// checkpoint index holds (`BundleHeaderProto`, `BundleEntryProto`, `TensorShapeProto`) without
/// generated code.
///
/// It decodes tags, varints, fixed32/fixed64 and length-delimited fields, and skips fields the
/// caller does not know, as protobuf requires of readers. Every read is bounds-checked: a varint
/// or length that runs past the end is a `WireFormatError`, never a trap.
///
/// ```swift
/// var reader = ProtoWireReader(bytes)
/// while let field = try reader.nextField() {
///     switch (field.number, field.wireType) {
///     case (1, .varint): dtype = try reader.readVarint()
///     default: try reader.skip(field.wireType)
///     }
/// }
/// ```
struct ProtoWireReader {
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5

        var name: String {
            switch self {
            case .varint: return "varint"
            case .fixed64: return "fixed64"
            case .lengthDelimited: return "length-delimited"
            case .startGroup: return "start-group"
            case .endGroup: return "end-group"
            case .fixed32: return "fixed32"
            }
        }
    }

    private let bytes: ArraySlice<UInt8>
    /// The index of the next byte to read (indices of `bytes`, which may not start at 0).
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// Bytes read so far, for messages ("at byte 7").
    var offset: Int { position - bytes.startIndex }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: UInt64, wireType: WireType)? {
        if isAtEnd { return nil }
        let start = offset
        let tag = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw WireFormatError("field tag at byte \(start) has wire type \(tag & 7), which protobuf does not define")
        }
        let number = tag >> 3
        guard number > 0 else { throw WireFormatError("field tag at byte \(start) has field number 0") }
        return (number, wireType)
    }

    /// A base-128 varint of at most 10 bytes.
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard position < bytes.endIndex else {
                throw WireFormatError("varint at byte \(start) runs past the end of its \(bytes.count) bytes")
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw WireFormatError("varint at byte \(start) does not fit in 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A varint that must be a non-negative `Int` (an offset, size or dimension).
    mutating func readNonNegativeInt(_ what: String) throws -> Int {
        let start = offset
        let raw = try readVarint()
        guard raw <= UInt64(Int.max) else {
            throw WireFormatError("\(what) at byte \(start) is negative or too large (\(Int64(bitPattern: raw)))")
        }
        return Int(raw)
    }

    mutating func readFixed32() throws -> UInt32 {
        let raw = try take(4, what: "fixed32")
        return raw.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func readFixed64() throws -> UInt64 {
        let raw = try take(8, what: "fixed64")
        return raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// The payload of a length-delimited field (a string, bytes, or an embedded message).
    mutating func readLengthDelimited() throws -> ArraySlice<UInt8> {
        let start = offset
        let length = try readVarint()
        guard length <= UInt64(bytes.endIndex - position) else {
            throw WireFormatError("length-delimited field at byte \(start) claims \(length) bytes but only \(bytes.endIndex - position) remain")
        }
        return try take(Int(length), what: "length-delimited field")
    }

    /// The next `count` raw bytes (a key or value inside an SSTable block).
    mutating func readBytes(_ count: Int, what: String) throws -> ArraySlice<UInt8> {
        try take(count, what: what)
    }

    /// Skips a field the caller does not know. Groups (deprecated since proto2) are refused: no
    /// message TensorFlow writes in a bundle uses them.
    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try take(8, what: "fixed64")
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: _ = try take(4, what: "fixed32")
        case .startGroup, .endGroup:
            throw WireFormatError("a \(wireType.name) field at byte \(offset) (protobuf groups are not used by TensorFlow bundles)")
        }
    }

    /// Fails unless a known field came with the wire type its schema gives it.
    static func expect(_ wireType: WireType, _ expected: WireType, field: String) throws {
        guard wireType == expected else {
            throw WireFormatError("field \(field) has wire type \(wireType.name), expected \(expected.name)")
        }
    }

    private mutating func take(_ count: Int, what: String) throws -> ArraySlice<UInt8> {
        guard count <= bytes.endIndex - position else {
            throw WireFormatError("\(what) at byte \(offset) needs \(count) bytes but only \(bytes.endIndex - position) remain")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }
}
