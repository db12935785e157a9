import Foundation
import ONNXExportIR

/// Finds a checkpoint's config and gives it in transformers' form: `config.json` as it is, or an
/// original config translated — Google's `bert_config.json` (BertConfig's own keys, no
/// `model_type`), OpenAI's GPT-2 `hparams.json` (`n_vocab`, `n_ctx`, ...).
public enum ConfigLocator {
    /// The config files looked for in a folder, in order.
    static let candidates = ["config.json", "bert_config.json", "hparams.json"]

    /// `explicit` (a `--config` file) wins; `modelType` fills in a missing `model_type`.
    public static func load(folder: String, explicit: String? = nil, modelType: String? = nil) throws -> ConfigReader {
        let path: String
        if let explicit {
            path = explicit
        } else if let found = candidates.map({ (folder as NSString).appendingPathComponent($0) })
                    .first(where: { FileManager.default.fileExists(atPath: $0) }) {
            path = found
        } else if let modelType {
            // OpenAI GPT's numpy release ships no config: the architecture's defaults apply, as
            // transformers' own converter did.
            return ConfigReader(origin: "\(folder) (no config: \(modelType) defaults)", fields: ["model_type": modelType])
        } else {
            throw ExportError("\((folder as NSString).appendingPathComponent("config.json")): no such file; a checkpoint folder needs a config.json, bert_config.json or hparams.json (or pass --config, or --model-type to use the architecture's defaults)")
        }
        return try translate(try ConfigReader(file: path), modelType: modelType)
    }

    /// Adds what an original config lacks so the architecture reads it like a transformers one.
    public static func translate(_ config: ConfigReader, modelType: String?) throws -> ConfigReader {
        var fields = config.fields
        if config.has("model_type") {
            if let modelType, try config.string("model_type") != modelType {
                throw ExportError("\(config.origin): model_type is \"\(try config.string("model_type"))\" but \"\(modelType)\" was asked for")
            }
            return config
        }
        if config.has("n_vocab") || config.has("n_ctx") {
            // GPT-2's hparams.json
            let renames = ["n_vocab": "vocab_size", "n_ctx": "n_positions"]
            for (old, new) in renames where fields[old] != nil && fields[new] == nil { fields[new] = fields[old] }
            fields["model_type"] = modelType ?? "gpt2"
        } else if let modelType {
            fields["model_type"] = modelType
        } else if config.has("type_vocab_size") && config.has("num_hidden_layers") {
            fields["model_type"] = "bert"   // bert_config.json
        } else {
            throw ExportError("\(config.origin): required key 'model_type' is missing; supported model types: \(ArchitectureRegistry.supportedModelTypes.joined(separator: ", "))")
        }
        return ConfigReader(origin: config.origin, fields: fields)
    }
}
