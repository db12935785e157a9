import ONNXExportIR

/// Writes tensors as a `torch.save` checkpoint (`pytorch_model.bin`): a zip holding `data.pkl`
/// (the state_dict pickle), one storage per tensor under `data/N`, `byteorder` and `version`.
public enum PyTorchWriter {
    static let storageClasses: [DataType: String] = [
        .float32: "FloatStorage", .float16: "HalfStorage", .bfloat16: "BFloat16Storage", .float64: "DoubleStorage",
        .int64: "LongStorage", .int32: "IntStorage", .int16: "ShortStorage", .int8: "CharStorage",
        .uint8: "ByteStorage", .bool: "BoolStorage",
    ]

    /// The tensors' bytes count into `meter` as they are written (not during the CRC pass).
    public static func write(_ tensors: [String: TensorData], to path: String, meter: ProgressMeter? = nil) throws {
        let names = tensors.keys.sorted()
        var entries: [PickleWriter.Tensor] = []
        for (i, name) in names.enumerated() {
            guard let t = tensors[name] else { continue }
            guard let storage = storageClasses[t.dtype] else {
                throw ExportError("\(path): tensor '\(name)' is \(t.dtype), which has no PyTorch storage class here")
            }
            entries.append(.init(name: name, storageClass: storage, storageKey: String(i), elements: t.elementCount, shape: t.shape))
        }
        let zip = try ZipWriter(path: path)
        try zip.add("archive/data.pkl", bytes: PickleWriter.stateDict(entries))
        try zip.add("archive/byteorder", bytes: Array("little".utf8))
        for (i, name) in names.enumerated() {
            guard let t = tensors[name] else { continue }
            try zip.add("archive/data/\(i)", size: t.byteCount, meter: meter) { sink in try t.stream(into: sink) }
        }
        try zip.add("archive/version", bytes: Array("3\n".utf8))
        try zip.finish()
    }
}
