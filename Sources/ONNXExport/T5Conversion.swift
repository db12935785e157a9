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
        let (prefix, store) = try TFCheckpointPath.open(path)
        guard let configPath = options.configFile ?? TFCheckpointPath.beside(prefix, "config.json") else {
            throw ExportError("\(path): --config is required with --model-type \(options.modelType): a transformers T5 config (T5Config's JSON, e.g. a t5-small config.json); the release's operative_config.gin is not read")
        }
        let config = try T5ConfigFile(path: configPath, modelType: options.modelType)
        let checkpoint = try T5MeshCheckpoint(store: store, config: config.config)
        return ConvertedCheckpoint(
            modelType: options.modelType, tensors: checkpoint.tensors, origin: store.origin, config: config.config,
            sourceFormat: "Mesh TensorFlow T5 checkpoint", notes: checkpoint.notes,
            writeCompanions: { try CompanionFiles.write(texts: [("config.json", config.configJSON), ("generation_config.json", config.generationConfigJSON)], into: $0) })
    }
}
