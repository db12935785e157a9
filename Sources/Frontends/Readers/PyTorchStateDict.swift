import ONNXExportIR

/// Turns the unpickled object of a `torch.save` archive into named lazy tensors.
///
/// The object must be a state_dict: a dict (usually an `OrderedDict`) of name → tensor. Entries
/// that are not tensors (an int `_extra_state`, metadata) are skipped; a dict that holds tensors
/// only deeper down (`{"model": state_dict, "optimizer": ...}`) is refused with a hint, since
/// guessing which part holds the weights could pick the wrong one.
///
/// Each tensor is a view of a storage: its bytes are `size` elements from `storage_offset` in
/// row-major order (or the transpose of a 2-D block), checked to lie inside the storage, wherever
/// the file keeps it (`PyTorchStorages`: a zip record, or a section of a legacy file).
struct PyTorchStateDict {
    let storages: any PyTorchStorages
    let heap: PickleHeap

    /// The tensors of the state_dict `root` (the whole pickle, or a dict inside it).
    func tensors(root: PickleValue) throws -> [String: TensorData] {
        let path = storages.path
        guard case .dict(let rootIndex) = root else {
            throw ExportError("\(path): the pickle holds \(root.kindName), expected a state_dict (a dict of name → tensor)")
        }
        let entries = heap.dicts[rootIndex].entries
        var located: [Int: any PyTorchStorageBytes] = [:]
        var tensors: [String: TensorData] = [:]
        for (key, value) in entries {
            switch value {
            case .tensor(let index):
                guard case .string(let name) = key else {
                    throw ExportError("\(path): the state_dict has a tensor under \(key.kindName) key; tensor names must be str")
                }
                tensors[name] = try tensor(named: name, heap.tensors[index], located: &located)
            case .dict, .list, .tuple, .set:
                if reachesTensor(from: value) {
                    let name: String
                    if case .string(let text) = key { name = "'\(text)'" } else { name = "a \(key.kindName) key" }
                    throw ExportError("\(path): the entry \(name) holds tensors inside \(value.kindName); expected a flat state_dict"
                        + " of name → tensor. Save just the weights, e.g. torch.save(checkpoint[\(name)], path)")
                }
            default:
                continue
            }
        }
        if tensors.isEmpty, !entries.isEmpty {
            throw ExportError("\(path): the pickle is a dict of \(entries.count) entries but none is a tensor; expected a state_dict")
        }
        return tensors
    }

    /// One tensor record as lazy bytes of its storage.
    private func tensor(named name: String, _ record: PickleTensorRecord, located: inout [Int: any PyTorchStorageBytes]) throws -> TensorData {
        let path = storages.path
        let fail = { (problem: String) in ExportError("\(path): tensor '\(name)': \(problem)") }
        let storage = heap.storages[record.storage]
        let dtype: DataType
        switch (record.dtype, storage.elementType) {
        case (let type?, nil), (nil, let type?): dtype = type
        case (let type?, let storageType?):
            guard type == storageType else { throw fail("is \(type) but its storage holds \(storageType)") }
            dtype = type
        case (nil, nil):
            throw fail("its storage '\(storage.key)' is untyped and nothing names the element type")
        }
        // An untyped storage counts bytes; a typed one counts elements of its type.
        let elementSize = storage.elementType?.byteSize ?? 1
        let (storageBytes, overflow) = storage.elementCount.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw fail("its storage '\(storage.key)' claims \(storage.elementCount) elements, too many to count") }

        guard let tensorBytes = ZipEntryData.byteCount(dtype: dtype, shape: record.size) else {
            throw fail("size \(record.size) of \(dtype) is too large to count in 64 bits")
        }
        if tensorBytes == 0 {
            return TensorData(dtype: dtype, shape: record.size, storage: .inline([]))
        }
        let data: any PyTorchStorageBytes
        if let known = located[record.storage] {
            data = known
        } else {
            data = try storages.locate(storage, byteCount: storageBytes, fail: fail)
            located[record.storage] = data
        }

        guard let layout = PyTorchTensorLayout.classify(size: record.size, stride: record.stride) else {
            throw fail("is a non-contiguous view (size \(record.size), stride \(record.stride), storage offset \(record.storageOffset));"
                + " only contiguous tensors and transposed 2-D ones can be read. Save it with .contiguous()")
        }
        let (start, startOverflow) = record.storageOffset.multipliedReportingOverflow(by: dtype.byteSize)
        guard !startOverflow, let end = ZipFields.sum(start, tensorBytes), end <= storageBytes else {
            throw fail("needs \(tensorBytes) bytes from element \(record.storageOffset) of storage '\(storage.key)',"
                + " which holds only \(storageBytes) bytes")
        }
        switch layout {
        case .rowMajor:
            return try data.tensor(byteOffset: start, dtype: dtype, shape: record.size)
        case .transposed2D(let rows, let cols):
            return try data.tensor(byteOffset: start, dtype: dtype, shape: [cols, rows]).transposed()
        }
    }

    /// Whether a tensor can be reached from `value` through containers (iterative, each
    /// container visited once, so cycles and deep nesting cost no stack).
    private func reachesTensor(from value: PickleValue) -> Bool {
        var pending = [value]
        var seenSequences: Set<Int> = [], seenDicts: Set<Int> = []
        while let next = pending.popLast() {
            switch next {
            case .tensor:
                return true
            case .tuple(let i), .list(let i), .set(let i):
                if seenSequences.insert(i).inserted { pending.append(contentsOf: heap.sequences[i]) }
            case .dict(let i):
                if seenDicts.insert(i).inserted { pending.append(contentsOf: heap.dicts[i].entries.map(\.value)) }
            default:
                continue
            }
        }
        return false
    }
}
