import ONNXExportIR

/// The bytes of a pickle with a read position; every read is checked against the end, so a
/// length field can never make the unpickler read or allocate more than the pickle holds.
struct PickleInput {
    let bytes: [UInt8]
    /// The next byte to read; after STOP, where the next pickle of a stream starts.
    private(set) var position = 0
    /// Where the opcode being run starts, and its name, for messages.
    private(set) var opcodeStart = 0
    var opcodeName = ""
    /// Names the pickle in messages: the file path, then the record.
    let origin: String
    /// Set when a read needed bytes past the end: a pickle read from a window of a longer file
    /// (the legacy torch.save stream) may then be retried with a larger window.
    private(set) var ranOut = false

    /// Where `bytes` start in their file, so messages give file offsets (a pickle inside a stream).
    let baseOffset: Int

    init(_ bytes: [UInt8], origin: String, baseOffset: Int = 0) {
        self.bytes = bytes
        self.origin = origin
        self.baseOffset = baseOffset
    }

    var remaining: Int { bytes.count - position }

    /// Records that the pickle needs more bytes than it has (a frame longer than what is left).
    mutating func noteRanOut() { ranOut = true }

    /// An error at the current opcode: `<origin>, byte <n> (<OPCODE>): <problem>`.
    func error(_ problem: String) -> ExportError {
        ExportError("\(origin), byte \(baseOffset + opcodeStart) (\(opcodeName)): \(problem)")
    }

    /// The next opcode byte, or nil at the end of the input.
    mutating func nextOpcode() -> UInt8? {
        opcodeStart = position
        opcodeName = "end of data"
        guard position < bytes.count else { ranOut = true; return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func read(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            if count >= 0 { ranOut = true }
            throw error("\(what) needs \(count) bytes but the pickle has \(remaining) left; is it truncated?")
        }
        defer { position += count }
        return bytes[position ..< position + count]
    }

    mutating func uint8(_ what: String) throws -> Int { Int(try read(1, what).first ?? 0) }

    /// An unsigned little-endian integer of `width` bytes (1, 2, 4 or 8).
    mutating func unsigned(_ width: Int, _ what: String) throws -> UInt64 {
        try read(width, what).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A length or memo index field, which must fit in an `Int`.
    mutating func count(_ width: Int, _ what: String) throws -> Int {
        let value = try unsigned(width, what)
        guard let count = Int(exactly: value) else { throw error("\(what) \(value) is beyond 2^63") }
        return count
    }

    /// A newline-terminated line (protocol 0 arguments), without the newline.
    mutating func line(_ what: String) throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            ranOut = true
            throw error("\(what) has no terminating newline; is the pickle truncated?")
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position ..< end], as: UTF8.self)
    }

    /// `count` bytes decoded as UTF-8; invalid UTF-8 is an error rather than silently replaced.
    mutating func utf8(_ count: Int, _ what: String) throws -> String {
        let slice = try read(count, what)
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw error("\(what) is not valid UTF-8")
        }
        return text
    }
}
