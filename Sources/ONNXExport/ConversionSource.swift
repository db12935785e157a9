import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// One kind of original checkpoint `onnx-export convert` reads. `Converter` asks each source in
/// turn whether it takes the request, then has it read the original (every check of the input
/// happens there, before anything is written) and writes what it returns.
protocol ConversionSource {
    /// Whether this source converts the checkpoint `options` names (by its model type).
    static func handles(_ options: ConvertOptions) -> Bool
    /// The original, read and checked.
    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint
}

/// An original checkpoint read and checked, ready to be written as a transformers folder.
struct ConvertedCheckpoint {
    var modelType: String
    /// The weights under transformers' names and layouts.
    var tensors: [String: TensorData]
    /// Where the tensors come from, for messages.
    var origin: String
    /// The converted config, for the check that builds the model once.
    var config: ConfigReader
    var sourceFormat: String
    /// What the conversion left out or could not check, for the report.
    var notes: [String] = []
    /// Writes `config.json` and the other files that go beside the weights into a folder, and
    /// returns their paths.
    var writeCompanions: (String) throws -> [String]
}

/// Original checkpoints read from a folder through `Checkpoint` and the architecture's name
/// tables: Google's TensorFlow BERT and ALBERT, OpenAI's GPT-2 checkpoint and GPT numpy parameters.
enum OriginalFolderConversion: ConversionSource {
    static func handles(_ options: ConvertOptions) -> Bool { true }

    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint {
        let folder = checkpointFolder(options.checkpoint)
        let checkpoint = try Checkpoint(folder: folder, configFile: options.configFile, modelType: options.modelType)
        return ConvertedCheckpoint(
            modelType: checkpoint.modelType, tensors: checkpoint.weights.tensors, origin: checkpoint.weights.origin,
            config: checkpoint.config, sourceFormat: checkpoint.format.description,
            writeCompanions: { try CompanionFiles.write(config: checkpoint.config, from: folder, to: $0) })
    }

    /// `--tf-checkpoint` may name a prefix (`model.ckpt`, whose files are `model.ckpt.index` ...)
    /// or the folder itself.
    static func checkpointFolder(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}

/// A TensorFlow checkpoint named by `--tf-checkpoint`, for the sources that read one bundle.
enum TFCheckpointPath {
    /// A prefix (`.../model.ckpt-1000000`, whose files are `PREFIX.index` and `PREFIX.data-*`),
    /// read as it is even when a later checkpoint sits beside it; or a folder, whose `checkpoint`
    /// file (or single bundle) says which.
    static func open(_ path: String) throws -> (prefix: String, store: WeightStore) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let store = try TensorBundleReader.open(folder: path)
            return (String(store.origin.dropLast(".index".count)), store)
        }
        let prefix = path.hasSuffix(".index") ? String(path.dropLast(".index".count)) : path
        guard FileManager.default.fileExists(atPath: prefix + ".index") else {
            throw ExportError("\(path): no TensorFlow checkpoint here; --tf-checkpoint takes the prefix of model.ckpt-N.index and model.ckpt-N.data-* (or their folder)")
        }
        return (prefix, WeightStore(origin: prefix + ".index", tensors: try TensorBundleReader.read(prefix: prefix)))
    }

    /// The file `name` beside the checkpoint, if there is one.
    static func beside(_ prefix: String, _ name: String) -> String? {
        let folder = (prefix as NSString).deletingLastPathComponent
        let candidate = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}
