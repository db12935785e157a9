import Foundation
import ONNXExportIR

/// A transformers T5 config file (`--config` of a Mesh TensorFlow conversion), read as
/// `T5Config.from_json_file` (or `MT5Config`'s) reads it, and the `config.json` and
/// `generation_config.json` that transformers 4.57's `convert_t5_original_tf_checkpoint_to_pytorch.py`
/// (`save_pretrained` of the model built from it) writes (`PretrainedConfigFile`), with T5Config's
/// own derivations: `num_decoder_layers` null is `num_layers`; `dense_act_fn` and `is_gated_act`
/// come from `feed_forward_proj` unless given.
public struct T5ConfigFile {
    public let modelType: String
    /// `config.json`'s text.
    public let configJSON: String
    /// `generation_config.json`'s text.
    public let generationConfigJSON: String
    /// The written config, read back (for the dimensions and the model check).
    public let config: ConfigReader

    /// The model types this file knows: transformers' class and its defaults beyond `PretrainedConfig`'s.
    static let classes: [String: (architecture: String, defaults: String)] = [
        "t5": ("T5ForConditionalGeneration", """
            {"vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_heads": 8,
             "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128, "dropout_rate": 0.1,
             "classifier_dropout": 0.0, "layer_norm_epsilon": 1e-06, "initializer_factor": 1.0,
             "feed_forward_proj": "relu", "use_cache": true, "is_encoder_decoder": true, "pad_token_id": 0,
             "eos_token_id": 1}
            """),
        "mt5": ("MT5ForConditionalGeneration", """
            {"vocab_size": 250112, "d_model": 512, "d_kv": 64, "d_ff": 1024, "num_layers": 8, "num_heads": 6,
             "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128, "dropout_rate": 0.1,
             "classifier_dropout": 0.0, "layer_norm_epsilon": 1e-06, "initializer_factor": 1.0,
             "feed_forward_proj": "gated-gelu", "use_cache": true, "is_encoder_decoder": true, "pad_token_id": 0,
             "eos_token_id": 1, "tokenizer_class": "T5Tokenizer", "tie_word_embeddings": false,
             "decoder_start_token_id": 0}
            """),
    ]

    /// T5Config's and MT5Config's `attribute_map`.
    static let attributeMap = ["hidden_size": "d_model", "num_attention_heads": "num_heads", "num_hidden_layers": "num_layers", "head_dim": "d_kv"]

    public init(path: String, modelType: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExportError("\(path): no such file (--config takes a transformers T5 config, T5Config's JSON)")
        }
        let data = Data(try ReadOnlyFile.contents(of: path, atMost: ConfigReader.maximumFileSize, what: "a config"))
        try self.init(data: data, origin: path, modelType: modelType)
    }

    /// The config in `data`; `origin` names it in messages.
    public init(data: Data, origin path: String, modelType: String) throws {
        guard let (architecture, classText) = Self.classes[modelType] else {
            throw ExportError("\(path): model type \(modelType) has no T5 config class here; use t5 or mt5")
        }
        var file = try PretrainedConfigFile(data: data, origin: path,
                                            configClass: .init(modelType: modelType, defaults: classText, attributeMap: Self.attributeMap))
        if file.values["num_decoder_layers"] == nil || file.values["num_decoder_layers"] == .null {
            file.values["num_decoder_layers"] = file.values["num_layers"]
        }
        guard case .string(let projection) = file.values["feed_forward_proj"] ?? .null else {
            throw ExportError("\(path): 'feed_forward_proj' must be a string such as \"relu\" or \"gated-gelu\"")
        }
        let parts = projection.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || (parts.count == 2 && parts[0] == "gated") else {
            throw ExportError("\(path): feed_forward_proj \"\(projection)\" is not an activation or gated-{activation} (e.g. relu, gated-gelu)")
        }
        // T5Config's backwards compatibility: gated-gelu means gelu_new. A value the file gives wins
        // (PretrainedConfig sets the remaining keys after T5Config derived them).
        let activation = projection == "gated-gelu" ? "gelu_new" : String(parts.last!)
        file.values["dense_act_fn"] = file.given["dense_act_fn"] ?? .string(activation)
        file.values["is_gated_act"] = file.given["is_gated_act"] ?? .bool(parts[0] == "gated")
        let saved = try file.saved(architecture: architecture, canGenerate: true)
        self.modelType = modelType
        configJSON = saved.configJSON
        generationConfigJSON = saved.generationConfigJSON ?? ""
        config = saved.config
    }
}
