import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// Original T5 checkpoints (Mesh TensorFlow's `model.ckpt-N`: T5 v1.0 and v1.1, mT5) with a
/// transformers T5 config, converted as transformers 4's `convert_t5_original_tf_checkpoint_to_pytorch.py`
/// does: `T5Config.from_json_file` → `T5ForConditionalGeneration` → `load_tf_weights_in_t5` →
/// `save_pretrained` (`T5MeshCheckpoint`, `T5ConfigFile`). `mt5` runs the same with `MT5Config`
/// and `load_tf_weights_in_mt5`, which is the same loader. `umt5` is refused: transformers has no
/// TensorFlow loader for it (umT5 was released as T5X checkpoints, and its per-layer position
/// tables have no place in T5's layout).
enum T5Conversion: ConversionSource {
    static let modelTypes = ["t5", "mt5"]

    static func handles(_ options: ConvertOptions) -> Bool { modelTypes.contains(options.modelType) || options.modelType == "umt5" }

    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint {
        let path = options.checkpoint
        guard options.modelType != "umt5" else {
            throw ExportError("\(path): umt5 cannot be converted from a TensorFlow checkpoint: transformers has no TensorFlow loader for UMT5 (umT5 was released as T5X checkpoints, converted by convert_umt5_checkpoint_to_pytorch.py), and its per-layer relative_attention_bias tables have no place in T5's Mesh TensorFlow layout")
        }
        let (prefix, store) = try open(path)
        guard let configPath = options.configFile ?? besideConfig(prefix) else {
            throw ExportError("\(path): --config is required with --model-type \(options.modelType): a transformers T5 config (T5Config's JSON, e.g. a t5-small config.json); the release's operative_config.gin is not read")
        }
        let config = try T5ConfigFile(path: configPath, modelType: options.modelType)
        let checkpoint = try T5MeshCheckpoint(store: store, config: config.config)
        return ConvertedCheckpoint(
            modelType: options.modelType, tensors: checkpoint.tensors, origin: store.origin, config: config.config,
            sourceFormat: "Mesh TensorFlow T5 checkpoint", notes: checkpoint.notes,
            writeCompanions: { folder in
                try [("config.json", config.configJSON), ("generation_config.json", config.generationConfigJSON)].map { name, text in
                    try CompanionFiles.write(Data(text.utf8), to: (folder as NSString).appendingPathComponent(name))
                }
            })
    }

    /// `--tf-checkpoint`: a prefix (`.../model.ckpt-1000000`, whose files are `PREFIX.index` and
    /// `PREFIX.data-*`), read as it is even when a later checkpoint sits beside it; or a folder,
    /// whose `checkpoint` file (or single bundle) says which.
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

    /// A `config.json` beside the checkpoint, if there is one.
    static func besideConfig(_ prefix: String) -> String? {
        let folder = (prefix as NSString).deletingLastPathComponent
        let candidate = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("config.json")
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}
