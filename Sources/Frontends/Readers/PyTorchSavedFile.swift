import ONNXExportIR

/// One `torch.save` file of either format, its pickle run by the restricted unpickler: the object,
/// the values it built, and where its storages lie. State dicts inside it become lazy tensors.
///
/// ```swift
/// let saved = try PyTorchSavedFile(path: "mlm_en_2048.pth")   // zip or legacy
/// if case .dict(let i) = saved.root, let model = saved.heap.dicts[i].value(forString: "model") {
///     let weights = try saved.stateDict(model)
/// }
/// ```
struct PyTorchSavedFile {
    let path: String
    let kind: PyTorchFileKind
    let root: PickleValue
    let heap: PickleHeap
    let storages: any PyTorchStorages

    init(path: String) throws {
        self.path = path
        let file = try ReadOnlyFile(path: path)
        kind = try PyTorchFileKind.of(file)
        switch kind {
        case .zip:
            let archive = try PyTorchArchive(zipFile: file)
            let result = try archive.unpickle()
            (root, heap, storages) = (result.root, result.heap, archive)
        case .legacy:
            let legacy = try PyTorchLegacyFile(file: file)
            (root, heap, storages) = (legacy.object.root, legacy.object.heap, legacy)
        }
    }

    /// The tensors of the state_dict `value`, by default the whole object.
    func stateDict(_ value: PickleValue? = nil) throws -> [String: TensorData] {
        try PyTorchStateDict(storages: storages, heap: heap).tensors(root: value ?? root)
    }
}
