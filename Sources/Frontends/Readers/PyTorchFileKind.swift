import ONNXExportIR

/// Tells the `torch.save` formats apart by the first bytes of the file, and names the ones that
/// are not read, so such a file gets a message saying what it is instead of a parse error.
///
/// The zip format is the default since torch 1.6. Before it, `torch.save` wrote a stream of
/// pickles whose first is the magic number 0x1950a86a20f9469cfc6c (read by `PyTorchLegacyFile`);
/// before 0.4, a tar archive, which is refused: torch itself still loads it and re-saves it.
enum PyTorchFileKind {
    case zip
    case legacy

    static let zipSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// An empty zip archive starts with its end record.
    static let emptyZipSignature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    /// The magic number's ten little-endian bytes, as LONG1 writes them (protocol 2 and later).
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    /// The magic number as protocols 0 and 1 write it (LONG, decimal).
    static let legacyMagicText = Array("L119547037146038801333356L\n".utf8)

    /// The format `file` is in; an error naming what it is when it is neither.
    static func of(_ file: ReadOnlyFile) throws -> PyTorchFileKind {
        let path = file.path
        let head = try file.readBytes(at: 0, count: min(file.size, 512))
        if head.starts(with: zipSignature) || head.starts(with: emptyZipSignature) { return .zip }
        if startsWithLegacyMagic(head) { return .legacy }
        if head.count >= 262, Array(head[257..<262]) == Array("ustar".utf8) {
            throw ExportError("\(path): is a tar archive (the torch.save format before 0.4), which this reader does not parse;"
                + " re-save it with a recent torch (torch.save(torch.load(p, weights_only=True), p)) to get the zip format")
        }
        guard !head.isEmpty else {
            throw ExportError("\(path): is empty (0 bytes); expected a torch.save zip archive")
        }
        let shown = head.prefix(8).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        throw ExportError("\(path): is not a PyTorch checkpoint: it starts with bytes \(shown.joined(separator: " ")),"
            + " expected a zip archive (50 4b 03 04, \"PK\") as torch.save writes, or the magic number of its legacy format")
    }

    /// Whether `head` starts with the pickled magic number: [PROTO n] [FRAME length] then LONG1 of
    /// ten bytes (protocols 2-5) or LONG in decimal (protocols 0 and 1).
    static func startsWithLegacyMagic(_ head: [UInt8]) -> Bool {
        var rest = head[...]
        if rest.first == PickleOpcode.proto.rawValue { rest = rest.dropFirst(2) }
        if rest.first == PickleOpcode.frame.rawValue { rest = rest.dropFirst(9) }
        return rest.starts(with: [PickleOpcode.long1.rawValue, 0x0A] + legacyMagic) || rest.starts(with: legacyMagicText)
    }
}
