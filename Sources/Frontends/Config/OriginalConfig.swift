/// A config file an original release ships instead of transformers' `config.json`: it names no
/// `model_type`, so it is recognised by its file name or by keys only that release's configs
/// carry, and some keys are renamed to transformers' spelling.
struct OriginalConfig {
    var modelType: String
    /// The name the release gives the file.
    var fileName: String
    /// Keys every config of the release has.
    var requiredKeys: [String] = []
    /// Keys that tell the release apart from a look-alike (one of them must be present); none
    /// needed when `requiredKeys` suffice.
    var distinguishingKeys: [String] = []
    /// Original key → transformers key, applied where the transformers key is absent.
    var renames: [String: String] = [:]

    /// The originals known, tried in this order (ALBERT's configs have all of BERT's keys, so
    /// ALBERT comes first).
    static let known = [
        // OpenAI GPT-2's hparams.json: n_vocab, n_ctx, n_embd, n_head, n_layer.
        OriginalConfig(modelType: "gpt2", fileName: "hparams.json", distinguishingKeys: ["n_vocab", "n_ctx"],
                       renames: ["n_vocab": "vocab_size", "n_ctx": "n_positions"]),
        // Google's albert_config.json: BertConfig's keys plus the factorised embedding and the groups
        // (and net_structure_type, gap_size, ..., which transformers keeps as they are).
        OriginalConfig(modelType: "albert", fileName: "albert_config.json", requiredKeys: ["num_hidden_layers"],
                       distinguishingKeys: ["embedding_size", "num_hidden_groups", "inner_group_num"]),
        // Google's bert_config.json: BertConfig's own keys.
        OriginalConfig(modelType: "bert", fileName: "bert_config.json", requiredKeys: ["type_vocab_size", "num_hidden_layers"]),
    ]

    /// Whether `config` is one of this release's: by file name, or by its keys.
    func recognizes(_ config: ConfigReader, fileName name: String) -> Bool {
        if name == fileName { return true }
        return requiredKeys.allSatisfy(config.has) && (distinguishingKeys.isEmpty || distinguishingKeys.contains(where: config.has))
    }

    /// The original known by the file's name or its keys, if any.
    static func recognized(_ config: ConfigReader, fileName: String) -> OriginalConfig? {
        known.first { $0.recognizes(config, fileName: fileName) }
    }
}
