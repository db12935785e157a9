import Foundation
import ONNXExportIR

/// A checkpoint folder opened for export: its config (from `config.json`, or a file given
/// explicitly) and its weights, recognised from the files the folder holds.
public struct Checkpoint {
    public let folder: String
    public let config: ConfigReader
    public let modelType: String
    public let weights: WeightStore

    public init(folder: String, configFile: String? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isDirectory.boolValue else { throw ExportError("\(folder): not a folder; --model takes the checkpoint's folder") }
        self.folder = folder
        let configPath = configFile ?? (folder as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ExportError("\(configPath): no such file; a checkpoint folder needs a config.json (or pass --config)")
        }
        config = try ConfigReader(file: configPath)
        guard config.has("model_type") else {
            throw ExportError("\(configPath): required key 'model_type' is missing; supported model types: \(ArchitectureRegistry.supportedModelTypes.joined(separator: ", "))")
        }
        modelType = try config.string("model_type")
        guard SafetensorsReader.recognizes(folder: folder) else {
            throw ExportError("\(folder): no weights found; expected model.safetensors or model.safetensors.index.json")
        }
        weights = try SafetensorsReader.open(folder: folder)
    }

    /// Files a deployment needs beside the model (config and tokenizer), those present here.
    public var companionFiles: [String] {
        let names = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "added_tokens.json", "vocab.txt", "vocab.json", "merges.txt",
                     "spiece.model", "sentencepiece.bpe.model", "tokenizer.model"]
        return names.map { (folder as NSString).appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}
