import ONNXExportIR

/// A `torch.save` file in the legacy format (torch before 1.6, or `_use_new_zipfile_serialization=False`):
/// pickles one after another, then the raw storages. From torch's `_legacy_save` / `_legacy_load`:
///
/// 1. the magic number 0x1950a86a20f9469cfc6c;
/// 2. the protocol version, 1001 (the only one there is);
/// 3. sys_info: `{'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}`;
/// 4. the object, whose persistent ids are `('storage', storage class, key, location, numel, view_metadata)`;
/// 5. the list of storage keys (torch sorts them);
/// 6. for each key of that list, in its order: the storage's element count as 8 little-endian
///    bytes, then its elements (count × the element size of its class).
///
/// Only the pickles are read into memory (`PickleStream`); storages stay file regions, sliced into
/// lazy tensors like the zip format's records. Refused, with the file named: a count that differs
/// from the persistent id's numel, a section running past the end of the file, a key the object
/// names but the list lacks (or the reverse, which torch refuses too), a big-endian sys_info (old
/// torch wrote the counts in the machine's byte order there), any other protocol version.
struct PyTorchLegacyFile: PyTorchStorages {
    let path: String
    /// The pickled object (4), run.
    let object: PickleUnpickler.Result
    /// Where each storage's elements lie, by key.
    let sections: [String: FileRegion]

    static let protocolVersion = 1001

    init(file: ReadOnlyFile) throws {
        path = file.path
        var stream = PickleStream(file: file, maximumPickleSize: PyTorchArchive.maximumPickleSize)
        let magic = try stream.next("the magic number (pickle 1)")
        guard magic.root == .largeInt else {
            throw ExportError("\(path): the first pickle holds \(magic.root.kindName), expected torch's magic number 0x1950a86a20f9469cfc6c")
        }
        let version = try stream.next("the protocol version (pickle 2)")
        guard version.root == .int(Self.protocolVersion) else {
            let shown: String
            if case .int(let n) = version.root { shown = String(n) } else { shown = version.root.kindName }
            throw ExportError("\(path): legacy torch.save protocol version is \(shown); only \(Self.protocolVersion), the one torch writes, is known")
        }
        try Self.checkSystemInfo(try stream.next("sys_info (pickle 3)"), path: path)
        object = try stream.next("the pickled object (pickle 4)", storageIDs: .legacy)
        let keys = try Self.keyList(try stream.next("the storage key list (pickle 5)"), path: path)
        sections = try Self.sections(keys: keys, from: stream.offset, in: file, heap: object.heap)
    }

    /// A section located by key, sliced to the view when the reference is a legacy storage view.
    func locate(_ storage: PickleStorageReference, byteCount: Int, fail: (String) -> ExportError) throws -> any PyTorchStorageBytes {
        guard let section = sections[storage.key] else {
            throw fail("its storage '\(storage.key)' has no section in the file")
        }
        let elementSize = storage.elementType?.byteSize ?? 1
        let (start, overflow) = (storage.viewOffset ?? 0).multipliedReportingOverflow(by: elementSize)
        guard !overflow, let end = ZipFields.sum(start, byteCount), end <= section.length else {
            throw fail("its storage '\(storage.key)' holds \(section.length) bytes, too few for \(byteCount) bytes"
                + (storage.viewOffset.map { " from element \($0) (a storage view)" } ?? ""))
        }
        let region = FileRegion(path: path, offset: section.offset + start, length: byteCount)
        return PyTorchStorageRegion(region: region, label: "storage '\(storage.key)'")
    }

    /// Storages are read as they lie, little-endian like the IR's tensors.
    private static func checkSystemInfo(_ info: PickleUnpickler.Result, path: String) throws {
        guard case .dict(let index) = info.root else {
            throw ExportError("\(path): sys_info (pickle 3) is \(info.root.kindName), expected a dict with 'little_endian'")
        }
        switch info.heap.dicts[index].value(forString: "little_endian") {
        case .bool(true)?:
            return
        case .bool(false)?:
            throw ExportError("\(path): was saved on a big-endian machine (sys_info little_endian is False); only little-endian"
                + " checkpoints are supported: load and re-save it on a little-endian machine")
        case let other:
            throw ExportError("\(path): sys_info's 'little_endian' is \(other?.kindName ?? "missing"), expected True or False")
        }
    }

    /// The key list (pickle 5): str keys, each once.
    private static func keyList(_ list: PickleUnpickler.Result, path: String) throws -> [String] {
        guard case .list(let index) = list.root else {
            throw ExportError("\(path): the storage key list (pickle 5) is \(list.root.kindName), expected a list of str")
        }
        var keys: [String] = []
        var seen: Set<String> = []
        for item in list.heap.sequences[index] {
            guard case .string(let key) = item else {
                throw ExportError("\(path): the storage key list holds \(item.kindName), expected str keys")
            }
            guard seen.insert(key).inserted else {
                throw ExportError("\(path): the storage key list names '\(key)' twice")
            }
            keys.append(key)
        }
        return keys
    }

    /// The storages' sections, which follow the key list back to back in its order, each checked
    /// against what the object's persistent ids say of it.
    private static func sections(keys: [String], from start: Int, in file: ReadOnlyFile, heap: PickleHeap) throws -> [String: FileRegion] {
        let path = file.path
        var declared: [String: PickleStorageReference] = [:]
        for storage in heap.storages where storage.viewOffset == nil { declared[storage.key] = storage }
        let listed = Set(keys)
        if let missing = declared.keys.sorted().first(where: { !listed.contains($0) }) {
            throw ExportError("\(path): the object names storage '\(missing)', but the storage key list (pickle 5) does not list it;"
                + " its bytes cannot be found")
        }
        var sections: [String: FileRegion] = [:]
        var offset = start
        for (number, key) in keys.enumerated() {
            let section = "storage '\(key)' (section \(number + 1) of \(keys.count), at byte \(offset))"
            guard let storage = declared[key] else {
                throw ExportError("\(path): the storage key list names '\(key)', which the object never uses; its element size is unknown")
            }
            guard file.size - offset >= 8 else {
                throw ExportError("\(path): \(section): the file ends before its 8-byte element count; is it truncated?")
            }
            let count = ZipFields.uint64(try file.readBytes(at: offset, count: 8), 0)
            guard count == UInt64(storage.elementCount) else {
                throw ExportError("\(path): \(section): the section says \(count) elements, but the object's persistent id says"
                    + " \(storage.elementCount); the file is damaged or not what torch wrote")
            }
            let elementSize = storage.elementType?.byteSize ?? 1
            let (bytes, overflow) = storage.elementCount.multipliedReportingOverflow(by: elementSize)
            guard !overflow, let end = ZipFields.sum(offset + 8, bytes), end <= file.size else {
                throw ExportError("\(path): \(section): needs \(storage.elementCount) × \(elementSize) bytes after its count,"
                    + " but the file ends at byte \(file.size); is it truncated?")
            }
            sections[key] = FileRegion(path: path, offset: offset + 8, length: bytes)
            offset = end
        }
        return sections
    }
}
