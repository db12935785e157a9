import Foundation
import ONNXExportIR

/// The weight formats a checkpoint folder can hold, recognised from its files and tried in this
/// order. Original layouts (TensorFlow, OpenAI numpy) are renamed by the architecture's tables.
public enum WeightFormat: String, CaseIterable, Sendable, CustomStringConvertible {
    case safetensors
    /// `torch.save` zip checkpoints (`pytorch_model.bin`, sharded with `pytorch_model.bin.index.json`).
    case pytorch
    /// A TensorFlow v1 checkpoint (tensor bundle: `PREFIX.index` + `PREFIX.data-*`).
    case tensorflow
    /// OpenAI's finetune-transformer-lm parameters (`params_shapes.json` + `params_N.npy`).
    case openAINumpy = "openai-numpy"
    /// NumPy `.npz` archives holding the tensors under transformers' names.
    case npz

    public var description: String { rawValue }

    /// Whose names the tensors carry when they are not transformers'.
    public var originalLayout: OriginalLayout? {
        switch self {
        case .safetensors, .pytorch, .npz: return nil
        case .tensorflow: return .tensorflow
        case .openAINumpy: return .openAINumpy
        }
    }

    func recognizes(folder: String) -> Bool {
        switch self {
        case .safetensors: return SafetensorsReader.recognizes(folder: folder)
        case .pytorch: return PyTorchReader.recognizes(folder: folder)
        case .tensorflow: return TensorBundleReader.recognizes(folder: folder)
        case .openAINumpy: return NumpyReader.recognizes(folder: folder)
        case .npz: return !Self.npzFiles(in: folder).isEmpty
        }
    }

    func read(folder: String) throws -> WeightStore {
        switch self {
        case .safetensors: return try SafetensorsReader.open(folder: folder)
        case .pytorch: return try PyTorchReader.open(folder: folder)
        case .tensorflow: return try TensorBundleReader.open(folder: folder)
        case .openAINumpy: return try NumpyReader.open(folder: folder)
        case .npz:
            let files = Self.npzFiles(in: folder)
            return WeightStore(origin: folder, tensors: try ShardedCheckpoint.mergeLooseFiles(files, folder: folder, indexFileName: "an index") {
                try NumpyReader.readNPZ($0)
            })
        }
    }

    /// The folder's `.npz` files (hidden ones skipped), sorted.
    static func npzFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".npz") && !$0.hasPrefix(".") }.sorted()
            .map { ShardedCheckpoint.path(of: $0, in: folder) }.filter(ShardedCheckpoint.isRegularFile)
    }

    /// The first format the folder holds, and its tensors under their stored names.
    public static func open(folder: String) throws -> (WeightFormat, WeightStore) {
        guard let format = allCases.first(where: { $0.recognizes(folder: folder) }) else {
            throw ExportError("\(folder): no weights found; expected model.safetensors (or shards with model.safetensors.index.json), pytorch_model.bin (or its shards), a TensorFlow checkpoint (*.index + *.data-*), params_shapes.json + params_N.npy, or .npz archives")
        }
        return (format, try format.read(folder: folder))
    }
}
