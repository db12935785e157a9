import ONNXExportIR

/// BINPERSID: how a `torch.save` pickle refers to the storages kept outside it (zip records, or
/// the raw sections after the legacy format's pickles). Each distinct storage becomes one entry of
/// the heap; tensors refer to it by index.
extension PickleUnpickler {
    /// BINPERSID: `('storage', storage class, key, location, numel)` → a storage reference; the
    /// legacy format appends `view_metadata`: None, or `(view_key, offset, view_size)` for a view of
    /// `view_size` elements from element `offset` of the storage (torch before 1.0 wrote these).
    /// A key named again must name the same storage (tensors sharing it are views of it).
    mutating func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        let legacy = storageIDs == .legacy
        let expected = legacy ? "expected ('storage', storage class, key, location, numel, view_metadata)"
            : "expected ('storage', storage class, key, location, numel)"
        guard let fields = heap.items(of: id), fields.count == (legacy ? 6 : 5), fields[0] == .string("storage") else {
            throw input.error("persistent id is \(describe(heap.items(of: id) ?? [id])), \(expected)")
        }
        guard case .global(.storageClass(let type)) = fields[1], case .string(let key) = fields[2],
              case .string(let location) = fields[3], case .int(let count) = fields[4], count >= 0 else {
            throw input.error("persistent id is \(describe(fields)), \(expected)")
        }
        let storage = try registerStorage(PickleStorageReference(elementType: type, key: key, location: location, elementCount: count), fields)
        guard legacy, fields[5] != .none else { return storage }
        guard let view = heap.items(of: fields[5]), view.count == 3, case .string(let viewKey) = view[0],
              case .int(let offset) = view[1], case .int(let size) = view[2], offset >= 0, size >= 0 else {
            throw input.error("persistent id of storage '\(key)' has view_metadata \(describe(heap.items(of: fields[5]) ?? [fields[5]])),"
                + " expected None or (view_key, offset, size)")
        }
        guard let end = ZipFields.sum(offset, size), end <= count else {
            throw input.error("storage view '\(viewKey)' takes elements \(offset) to \(offset)+\(size) of storage '\(key)', which has \(count)")
        }
        let reference = PickleStorageReference(elementType: type, key: key, location: location, elementCount: size, viewOffset: offset)
        if let existing = storageOfView[viewKey] {
            guard heap.storages[existing] == reference else {
                throw input.error("storage view '\(viewKey)' is named again as a different view (\(describe(view)) of '\(key)')")
            }
            return .storage(existing)
        }
        try countObject()
        heap.storages.append(reference)
        storageOfView[viewKey] = heap.storages.count - 1
        return .storage(heap.storages.count - 1)
    }

    /// The heap's storage for `reference.key`, added on first sight.
    private mutating func registerStorage(_ reference: PickleStorageReference, _ fields: [PickleValue]) throws -> PickleValue {
        if let existing = storageOfKey[reference.key] {
            let earlier = heap.storages[existing]
            guard earlier.elementType == reference.elementType, earlier.elementCount == reference.elementCount else {
                throw input.error("storage '\(reference.key)' is named again with a different type or size (\(describe(fields)))")
            }
            return .storage(existing)
        }
        try countObject()
        heap.storages.append(reference)
        storageOfKey[reference.key] = heap.storages.count - 1
        return .storage(heap.storages.count - 1)
    }
}
