import Foundation
import ONNXExportIR

/// A transformers Transformer-XL config (kimiyoung/transformer-xl's TensorFlow models were
/// configured by `train_gpu.py`'s flags, so a `TransfoXLConfig` JSON describes them), read as
/// transformers 4's `convert_transfo_xl_original_tf_checkpoint_to_pytorch.py` reads it —
/// `TransfoXLConfig.from_json_file`, or `TransfoXLConfig()` (the wt103 model) without a file — and
/// written as `save_pretrained` of the `TransfoXLLMHeadModel` built from it writes it
/// (`PretrainedConfigFile`; that model writes no `generation_config.json`): `n_token` is
/// `vocab_size` through `attribute_map`; `tie_projs` is `[false]` then `proj_share_all_but_first` for
/// every cutoff, unless the file gives `tie_projs`; `proj_share_all_but_first` itself is not kept.
public struct TransfoXLConfigFile {
    /// TransfoXLConfig's `__init__` defaults (`tie_projs` derived from `proj_share_all_but_first`).
    static let configClass = PretrainedConfigFile.ConfigClass(modelType: "transfo-xl", defaults: """
        {"vocab_size": 267735, "cutoffs": [20000, 40000, 200000], "d_model": 1024, "d_embed": 1024, "n_head": 16,
         "d_head": 64, "d_inner": 4096, "div_val": 4, "pre_lnorm": false, "n_layer": 18, "mem_len": 1600,
         "clamp_len": 1000, "same_length": true, "attn_type": 0, "sample_softmax": -1, "adaptive": true,
         "dropout": 0.1, "dropatt": 0.0, "untie_r": true, "init": "normal", "init_range": 0.01,
         "proj_init_std": 0.01, "init_std": 0.02, "layer_norm_epsilon": 1e-05, "eos_token_id": 0,
         "tie_projs": [false, true, true, true]}
        """, attributeMap: ["n_token": "vocab_size", "hidden_size": "d_model", "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"])

    public static let architecture = "TransfoXLLMHeadModel"
    public let configJSON: String
    /// The written config, read back.
    public let config: ConfigReader

    /// The file at `path`, or `TransfoXLConfig()`'s defaults when `path` is nil.
    public init(path: String?) throws {
        guard let path else {
            try self.init(data: Data("{}".utf8), origin: "TransfoXLConfig() defaults")
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExportError("\(path): no such file (--config takes a transformers Transformer-XL config, TransfoXLConfig's JSON)")
        }
        let data = Data(try ReadOnlyFile.contents(of: path, atMost: ConfigReader.maximumFileSize, what: "a config"))
        try self.init(data: data, origin: path)
    }

    public init(data: Data, origin path: String) throws {
        var file = try PretrainedConfigFile(data: data, origin: path, configClass: Self.configClass)
        if file.given["max_position_embeddings"] != nil {
            throw ExportError("\(path): TransfoXLConfig has no max_position_embeddings (Transformer-XL has no sequence length limit; transformers refuses the key)")
        }
        guard case .array(let cutoffs)? = file.values["cutoffs"] else {
            throw ExportError("\(path): 'cutoffs' must be a list of token ids (the adaptive softmax's cluster boundaries)")
        }
        let shareAllButFirst = file.given["proj_share_all_but_first"] ?? .bool(true)
        file.values["proj_share_all_but_first"] = nil
        if file.given["tie_projs"] == nil {
            let shared = PretrainedConfigFile.pythonEqual(shareAllButFirst, .bool(true)) || {
                if case .number(let n) = shareAllButFirst { return Double(n) != 0 }
                if case .string(let s) = shareAllButFirst { return !s.isEmpty }
                return false
            }()
            file.values["tie_projs"] = .array([.bool(false)] + Array(repeating: .bool(shared), count: cutoffs.count))
        }
        let saved = try file.saved(architecture: Self.architecture, canGenerate: false)
        configJSON = saved.configJSON
        config = saved.config
    }
}
