import ONNXExportIR

/// The weight formats a checkpoint folder can hold, recognised from its files and tried in this
/// order. Original layouts (TensorFlow, OpenAI numpy) are renamed by the architecture's tables.
public enum WeightFormat: String, CaseIterable, Sendable, CustomStringConvertible {
    case safetensors
    /// A TensorFlow v1 checkpoint (tensor bundle: `PREFIX.index` + `PREFIX.data-*`).
    case tensorflow
    /// OpenAI's finetune-transformer-lm parameters (`params_shapes.json` + `params_N.npy`).
    case openAINumpy = "openai-numpy"

    public var description: String { rawValue }

    /// Whose names the tensors carry when they are not transformers'.
    public var originalLayout: OriginalLayout? {
        switch self {
        case .safetensors: return nil
        case .tensorflow: return .tensorflow
        case .openAINumpy: return .openAINumpy
        }
    }

    func recognizes(folder: String) -> Bool {
        switch self {
        case .safetensors: return SafetensorsReader.recognizes(folder: folder)
        case .tensorflow: return TensorBundleReader.recognizes(folder: folder)
        case .openAINumpy: return NumpyReader.recognizes(folder: folder)
        }
    }

    func read(folder: String) throws -> WeightStore {
        switch self {
        case .safetensors: return try SafetensorsReader.open(folder: folder)
        case .tensorflow: return try TensorBundleReader.open(folder: folder)
        case .openAINumpy: return try NumpyReader.open(folder: folder)
        }
    }

    /// The first format the folder holds, and its tensors under their stored names.
    public static func open(folder: String) throws -> (WeightFormat, WeightStore) {
        guard let format = allCases.first(where: { $0.recognizes(folder: folder) }) else {
            throw ExportError("\(folder): no weights found; expected model.safetensors (or shards with model.safetensors.index.json), a TensorFlow checkpoint (*.index + *.data-*), or params_shapes.json + params_N.npy")
        }
        return (format, try format.read(folder: folder))
    }
}
