import ONNXExportIR

/// Tells a `torch.save` zip archive from the older formats by the first bytes of the file, so a
/// legacy checkpoint gets a message saying how to convert it instead of a zip error.
///
/// The zip format is the default since torch 1.6. Before it, `torch.save` wrote a stream of
/// pickles that starts with the magic number 0x1950a86a20f9469cfc6c pickled as a long
/// (`\x80\x02\x8a\x0a` + its ten little-endian bytes); before 0.4, a tar archive. Neither is
/// parsed: torch itself still loads both and re-saves them as zip archives.
enum PyTorchFileKind {
    static let zipSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// An empty zip archive starts with its end record.
    static let emptyZipSignature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Throws unless `file` starts like a zip archive, naming the older format when it is one.
    static func checkIsZip(_ file: ReadOnlyFile) throws {
        let path = file.path
        let head = try file.readBytes(at: 0, count: min(file.size, 512))
        if head.starts(with: zipSignature) || head.starts(with: emptyZipSignature) { return }
        let resave = "re-save it with a recent torch (torch.save(torch.load(p, weights_only=True), p)) to get the zip format"
        // PROTO n, LONG1 of 10 bytes, the magic.
        if head.count >= 14, head[0] == 0x80, head[2] == 0x8A, head[3] == 0x0A, Array(head[4..<14]) == legacyMagic {
            throw ExportError("\(path): is a legacy (pre-1.6) torch.save checkpoint, which this reader does not parse; \(resave)")
        }
        if head.count >= 262, Array(head[257..<262]) == Array("ustar".utf8) {
            throw ExportError("\(path): is a tar archive (the torch.save format before 0.4), which this reader does not parse; \(resave)")
        }
        guard !head.isEmpty else {
            throw ExportError("\(path): is empty (0 bytes); expected a torch.save zip archive")
        }
        let shown = head.prefix(8).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        throw ExportError("\(path): is not a PyTorch checkpoint: it starts with bytes \(shown.joined(separator: " ")),"
            + " expected a zip archive (50 4b 03 04, \"PK\") as torch.save writes")
    }
}
