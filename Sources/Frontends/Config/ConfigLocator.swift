import Foundation
import ONNXExportIR

/// Finds a checkpoint's config and gives it in transformers' form: `config.json` as it is, or an
/// original config translated (`OriginalConfig.known`: Google's `bert_config.json` and
/// `albert_config.json`, OpenAI's GPT-2 `hparams.json`).
public enum ConfigLocator {
    /// The config files looked for in a folder, in order.
    static let candidates = ["config.json", "bert_config.json", "albert_config.json", "hparams.json"]

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
            throw ExportError("\((folder as NSString).appendingPathComponent("config.json")): no such file; a checkpoint folder needs one of \(candidates.joined(separator: ", ")) (or pass --config, or --model-type to use the architecture's defaults)")
        }
        return try translate(try ConfigReader(file: path), modelType: modelType)
    }

    /// Adds what an original config lacks so the architecture reads it like a transformers one:
    /// `model_type` (`modelType`, the `--model-type` given, wins over what the file looks like)
    /// and transformers' spelling of renamed keys. Every other key stays as it is, as
    /// transformers' `from_json_file` keeps them.
    public static func translate(_ config: ConfigReader, modelType: String?) throws -> ConfigReader {
        var fields = config.fields
        if config.has("model_type") {
            if let modelType, try config.string("model_type") != modelType {
                throw ExportError("\(config.origin): model_type is \"\(try config.string("model_type"))\" but \"\(modelType)\" was asked for")
            }
            return config
        }
        let original = OriginalConfig.recognized(config, fileName: (config.origin as NSString).lastPathComponent)
        guard let type = modelType ?? original?.modelType else {
            throw ExportError("\(config.origin): required key 'model_type' is missing; supported model types: \(ArchitectureRegistry.supportedModelTypes.joined(separator: ", "))")
        }
        for (old, new) in original?.renames ?? [:] where fields[old] != nil && fields[new] == nil { fields[new] = fields[old] }
        fields["model_type"] = type
        return ConfigReader(origin: config.origin, fields: fields)
    }
}
