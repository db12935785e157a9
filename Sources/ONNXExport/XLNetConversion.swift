import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// zihangdai/xlnet's TensorFlow checkpoints (the pretrained `xlnet_model.ckpt`, or a fine-tuned
/// `model.ckpt-N`) with the release's `xlnet_config.json`, converted as transformers 4's
/// `convert_xlnet_original_tf_checkpoint_to_pytorch.py` does with `--finetuning_task`
/// (`XLNetConfigFile` picks the model and writes its config, `XLNetTFCheckpoint` the weights);
/// `spiece.model` beside the checkpoint is copied.
enum XLNetConversion: ConversionSource {
    static func handles(_ options: ConvertOptions) -> Bool { options.modelType == "xlnet" }

    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint {
        let (prefix, store) = try TFCheckpointPath.open(options.checkpoint)
        guard let configPath = options.configFile ?? TFCheckpointPath.beside(prefix, "xlnet_config.json") else {
            throw ExportError("\(options.checkpoint): --config is required with --model-type xlnet: the release's xlnet_config.json (none beside the checkpoint)")
        }
        let config = try XLNetConfigFile(path: configPath, finetuningTask: options.finetuningTask)
        let checkpoint = try XLNetTFCheckpoint(store: store, config: config)
        let texts = [("config.json", config.configJSON)] + (config.generationConfigJSON.map { [("generation_config.json", $0)] } ?? [])
        return ConvertedCheckpoint(
            modelType: "xlnet", tensors: checkpoint.tensors, origin: store.origin, config: config.config,
            sourceFormat: "XLNet TensorFlow checkpoint (\(config.architecture))", notes: checkpoint.notes,
            writeCompanions: { folder in
                var written = try CompanionFiles.write(texts: texts, into: folder)
                if let vocabulary = TFCheckpointPath.beside(prefix, "spiece.model") {
                    let target = (folder as NSString).appendingPathComponent("spiece.model")
                    try CompanionFiles.copy(vocabulary, to: target)
                    written.append(target)
                }
                return written
            })
    }
}
