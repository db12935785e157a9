import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// facebookresearch/XLM's pretrained files (`mlm_en_2048.pth`, legacy or zip `torch.save`),
/// converted as transformers' `convert_xlm_original_pytorch_checkpoint_to_pytorch.py` does
/// (`XLMOriginalCheckpoint`): the weights, `config.json` from the checkpoint's `params` and
/// `vocab.json` from its `dico_word2id`.
enum XLMConversion: ConversionSource {
    static func handles(_ options: ConvertOptions) -> Bool { options.modelType == "xlm" }

    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint {
        let path = options.checkpoint
        if let config = options.configFile {
            throw ExportError("\(config): --config is not used with --model-type xlm; the config comes from the checkpoint's 'params'")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ExportError("\(path): no such file; --tf-checkpoint takes XLM's .pth file (e.g. mlm_en_2048.pth)")
        }
        guard !isDirectory.boolValue else {
            throw ExportError("\(path): is a folder; --tf-checkpoint takes XLM's .pth file (e.g. mlm_en_2048.pth)")
        }
        let original = try XLMOriginalCheckpoint(path: path)
        let config = try ConfigReader(origin: "\(path) 'params'", data: Data(original.configJSON.utf8))
        return ConvertedCheckpoint(
            modelType: "xlm", tensors: original.tensors, origin: path, config: config,
            sourceFormat: "XLM original (\(original.fileFormat))", notes: original.notes,
            writeCompanions: { try CompanionFiles.write(texts: [("config.json", original.configJSON), ("vocab.json", original.vocabJSON)], into: $0) })
    }
}
