import ONNXExportIR

/// Where a `torch.save` file keeps the bytes of its storages: one zip record per storage
/// (`PyTorchArchive`), or sections after the pickles of the legacy format (`PyTorchLegacyFile`).
/// The two formats share the pickle and the tensor records; only this lookup differs.
protocol PyTorchStorages {
    /// The file, for messages.
    var path: String { get }
    /// The bytes of `storage`, which its persistent id says are `byteCount` bytes; an error made
    /// by `fail` (which names the tensor) if they are missing or of another size.
    func locate(_ storage: PickleStorageReference, byteCount: Int, fail: (String) -> ExportError) throws -> any PyTorchStorageBytes
}

/// A storage's bytes, located: tensors are lazy slices of them.
protocol PyTorchStorageBytes {
    /// `dtype` × `shape` from `byteOffset` into the storage; an error if that runs past its end.
    func tensor(byteOffset: Int, dtype: DataType, shape: [Int]) throws -> TensorData
}

extension ZipEntryData: PyTorchStorageBytes {}

/// A storage lying uncompressed in a file region (the legacy format's sections).
struct PyTorchStorageRegion: PyTorchStorageBytes {
    let region: FileRegion
    /// Names the storage in messages.
    let label: String

    func tensor(byteOffset: Int, dtype: DataType, shape: [Int]) throws -> TensorData {
        guard let length = ZipEntryData.byteCount(dtype: dtype, shape: shape) else {
            throw ExportError("\(region.path): \(label): \(dtype)\(shape) is too large to count in 64 bits")
        }
        guard byteOffset >= 0, let end = ZipFields.sum(byteOffset, length), end <= region.length else {
            throw ExportError("\(region.path): \(label) holds \(region.length) bytes, too few for \(length) bytes of \(dtype)\(shape) at byte \(byteOffset)")
        }
        return try .file(FileRegion(path: region.path, offset: region.offset + byteOffset, length: length), dtype: dtype, shape: shape)
    }
}
