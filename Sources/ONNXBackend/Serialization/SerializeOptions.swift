import ONNXExportIR

/// Where weights go: inside `model.onnx`, or in `model.onnx_data` beside it.
public enum ExternalDataMode: String, Sendable, CaseIterable {
    /// External only when the model would otherwise reach protobuf's 2 GiB limit.
    case auto
    /// Every tensor of at least `inlineThreshold` bytes goes external.
    case always
    /// Everything inline; a model that would reach 2 GiB is refused.
    case never
}

/// How `ONNXSerializer.write` lays out its files.
public struct SerializeOptions: Sendable {
    public var externalData: ExternalDataMode = .auto
    /// Name of the model file inside the output folder (a plain file name, no folders).
    public var modelFileName = "model.onnx"
    /// Name of the external data file, written only when some tensor is external. It is stored
    /// in the model as each tensor's `location`, which runtimes resolve against the model's folder.
    public var dataFileName = "model.onnx_data"
    /// Offsets in the data file are multiples of this, so runtimes can map tensors in place.
    public var alignment = 4096
    /// Tensors smaller than this stay inline even when others go external.
    public var inlineThreshold = 1024
    /// Counts the weight bytes written, for progress reports; its total is set once the layout
    /// is known, before the first byte.
    public var progress: ProgressMeter? = nil
    public init() {}

    /// Refuses options that would write a file runtimes reject, or write outside the folder.
    func validate() throws {
        guard alignment >= 1 else { throw ExportError("external data alignment must be at least 1 byte, got \(alignment)") }
        for (what, name) in [("model", modelFileName), ("external data", dataFileName)] {
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0) else {
                throw ExportError("\(what) file name '\(name)' must be a plain file name inside the output folder")
            }
        }
        guard modelFileName != dataFileName else {
            throw ExportError("the model and its external data cannot share the file name '\(modelFileName)'")
        }
    }
}

/// What `ONNXSerializer.write` produced.
public struct SerializeReport: Sendable {
    public var modelPath: String
    /// The external data file, or nil when every tensor is inline (no data file is written).
    public var dataPath: String?
    public var modelBytes: Int
    public var dataBytes: Int
    public var externalTensorCount: Int
}
