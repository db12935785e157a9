import ONNXExportIR

/// One `torch.save` zip archive: its records, found under one prefix, its pickle, and its
/// storages (one record each, `PyTorchStorages`).
///
/// Records (torch's `serialization.py` `_save`, through `PyTorchStreamWriter`): `<prefix>/data.pkl`
/// (the pickled object), `<prefix>/byteorder` (`little` or `big`; absent before torch 1.10,
/// meaning little), and one `<prefix>/data/<key>` per storage. The prefix is the file's base
/// name without extension when torch.save was given a path and `archive` when it was given a
/// stream, so it is found from the `*/data.pkl` record.
struct PyTorchArchive: PyTorchStorages {
    let path: String
    let zip: ZipArchive
    let prefix: String

    /// The largest `data.pkl` accepted: about 200 bytes per tensor, so even a million tensors fit;
    /// it bounds the memory a hostile declared size can make the reader allocate.
    static let maximumPickleSize = 256 << 20

    init(path: String) throws {
        let file = try ReadOnlyFile(path: path)
        guard try PyTorchFileKind.of(file) == .zip else {
            throw ExportError("\(path): is a legacy (pre-1.6) torch.save file, not a zip archive")
        }
        try self.init(zipFile: file)
    }

    /// `file`, already known to start like a zip archive.
    init(zipFile file: ReadOnlyFile) throws {
        path = file.path
        zip = try ZipArchive(file: file)
        prefix = try Self.prefix(of: zip)
        try checkNotTorchScript()
        try checkByteOrder()
    }

    /// The pickled object, run.
    func unpickle() throws -> PickleUnpickler.Result {
        let record = "\(prefix)/data.pkl"
        let pickle = try zip.locate(record).readAll(limit: Self.maximumPickleSize)
        return try PickleUnpickler.unpickle(pickle, origin: "\(path): pickle '\(record)'")
    }

    /// The record `<prefix>/data/<key>`, checked to hold exactly the storage's bytes.
    func locate(_ storage: PickleStorageReference, byteCount: Int, fail: (String) -> ExportError) throws -> any PyTorchStorageBytes {
        guard let entry = zip.entry(named: "\(prefix)/data/\(storage.key)") else {
            throw fail("its storage '\(storage.key)' has no record '\(prefix)/data/\(storage.key)' in the archive")
        }
        guard entry.uncompressedSize == byteCount else {
            let kind = storage.elementType.map { "\(storage.elementCount) elements of \($0)" } ?? "\(storage.elementCount) bytes"
            throw fail("its storage '\(storage.key)' is \(kind) (\(byteCount) bytes), but record '\(entry.name)' holds \(entry.uncompressedSize)")
        }
        return try zip.locate(entry)
    }

    /// The prefix of the only `<prefix>/data.pkl` record.
    private static func prefix(of zip: ZipArchive) throws -> String {
        let candidates = zip.entries.map(\.name).filter { name in
            name.hasSuffix("/data.pkl") && name.dropLast("/data.pkl".count).firstIndex(of: "/") == nil
        }
        guard let first = candidates.first else {
            let shown = zip.entries.prefix(5).map { "'\($0.name)'" }.joined(separator: ", ")
            throw ExportError("\(zip.path): is a zip archive but not a torch.save checkpoint: it has no '<name>/data.pkl' record"
                + (zip.entries.isEmpty ? " (it is empty)" : " (it holds \(shown)\(zip.entries.count > 5 ? ", ..." : ""))"))
        }
        guard candidates.count == 1 else {
            throw ExportError("\(zip.path): holds several pickles (\(candidates.map { "'\($0)'" }.joined(separator: ", "))); a torch.save archive has exactly one")
        }
        return String(first.dropLast("/data.pkl".count))
    }

    /// TorchScript archives (`torch.jit.save`) also hold a `data.pkl`, whose globals are compiled
    /// classes; say what the file is rather than refusing `__torch__` names one by one.
    private func checkNotTorchScript() throws {
        if zip.entry(named: "\(prefix)/constants.pkl") != nil || zip.entries.contains(where: { $0.name.hasPrefix("\(prefix)/code/") }) {
            throw ExportError("\(path): is a TorchScript archive (torch.jit.save), not a torch.save checkpoint;"
                + " save the weights with torch.save(model.state_dict(), path)")
        }
    }

    /// Storages are read as they lie, so they must be little-endian like the IR's tensors.
    private func checkByteOrder() throws {
        guard let entry = zip.entry(named: "\(prefix)/byteorder") else { return }
        let bytes = try zip.locate(entry).readAll(limit: 64)
        let order = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        switch order {
        case "little": return
        case "big":
            throw ExportError("\(path): was saved on a big-endian machine ('\(prefix)/byteorder' says big); only little-endian"
                + " checkpoints are supported: load and re-save it on a little-endian machine")
        default:
            throw ExportError("\(path): '\(prefix)/byteorder' says '\(order.prefix(20))', expected 'little' or 'big'")
        }
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
