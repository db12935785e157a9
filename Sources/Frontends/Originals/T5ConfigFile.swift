import Foundation
import ONNXExportIR

/// A transformers T5 config file (`--config` of a Mesh TensorFlow conversion), read as
/// `T5Config.from_json_file` (or `MT5Config`'s) reads it, and the `config.json` and
/// `generation_config.json` that transformers 4.57's `convert_t5_original_tf_checkpoint_to_pytorch.py`
/// (`save_pretrained` of the model built from it) writes:
///
/// - every T5 field, the given value or the class default (`num_decoder_layers` null is
///   `num_layers`; `dense_act_fn` and `is_gated_act` come from `feed_forward_proj` unless given);
/// - `PretrainedConfig`'s own fields only where they differ from its default or from the class's
///   (`to_diff_dict`), other keys as given; `architectures` the class's model, `model_type` the
///   class's, `dtype` `"float32"` (the model is built in float32 whatever the file says);
/// - generation parameters that differ from their defaults (`max_length`, `num_beams`, ...) moved
///   to `generation_config.json` and `null` in `config.json`, as `save_pretrained` moves them;
/// - `json.dumps(indent=2, sort_keys=True)`'s text, numbers as Python writes them back.
///
/// `transformers_version` is not written: no transformers wrote these files. Label maps
/// (`id2label`, `label2id`, `num_labels`) are kept as given, not rebuilt as `PretrainedConfig` does.
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

    /// `PretrainedConfig().to_dict()` of transformers 4.57 but for its generation parameters
    /// (`generationDefaults`) and the keys handled apart.
    static let baseDefaults = """
        {"return_dict": true, "output_hidden_states": false, "torchscript": false, "dtype": null, "pruned_heads": {},
         "tie_word_embeddings": true, "chunk_size_feed_forward": 0, "is_encoder_decoder": false, "is_decoder": false,
         "cross_attention_hidden_size": null, "add_cross_attention": false, "tie_encoder_decoder": false,
         "architectures": null, "finetuning_task": null, "id2label": {"0": "LABEL_0", "1": "LABEL_1"},
         "label2id": {"LABEL_0": 0, "LABEL_1": 1}, "task_specific_params": null, "problem_type": null,
         "tokenizer_class": null, "prefix": null, "bos_token_id": null, "pad_token_id": null, "eos_token_id": null,
         "sep_token_id": null, "decoder_start_token_id": null, "tf_legacy_loss": false, "use_bfloat16": false,
         "model_type": "", "output_attentions": false}
        """

    /// `PretrainedConfig._get_global_generation_defaults()`: `save_pretrained` moves any of these
    /// that differs from it into the generation config and leaves `null` behind.
    static let generationDefaults = """
        {"max_length": 20, "min_length": 0, "do_sample": false, "early_stopping": false, "num_beams": 1,
         "temperature": 1.0, "top_k": 50, "top_p": 1.0, "typical_p": 1.0, "repetition_penalty": 1.0,
         "length_penalty": 1.0, "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "bad_words_ids": null,
         "num_return_sequences": 1, "output_scores": false, "return_dict_in_generate": false,
         "forced_bos_token_id": null, "forced_eos_token_id": null, "remove_invalid_values": false,
         "exponential_decay_length_penalty": null, "suppress_tokens": null, "begin_suppress_tokens": null,
         "num_beam_groups": 1, "diversity_penalty": 0.0}
        """

    /// Keys `PretrainedConfig` consumes or `to_diff_dict` removes.
    static let dropped: Set<String> = ["transformers_version", "torch_dtype", "name_or_path", "_name_or_path", "_commit_hash",
                                       "attn_implementation", "_attn_implementation_internal", "_auto_class"]

    public init(path: String, modelType: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExportError("\(path): no such file (--config takes a transformers T5 config, T5Config's JSON)")
        }
        try self.init(data: data, origin: path, modelType: modelType)
    }

    /// The config in `data`; `origin` names it in messages.
    public init(data: Data, origin path: String, modelType: String) throws {
        guard let (architecture, classText) = Self.classes[modelType] else {
            throw ExportError("\(path): model type \(modelType) has no T5 config class here; use t5 or mt5")
        }
        let given: [OrderedJSON.Member]
        do {
            guard case .object(let members) = try OrderedJSONParser.parse([UInt8](data)) else {
                throw ExportError("\(path): expected a JSON object at the top level")
            }
            given = members
        } catch let error as OrderedJSONSyntaxError {
            throw ExportError("\(path): not valid JSON (\(error.detail))")
        }
        let classDefaults = Self.members(classText)
        let generationDefaults = Self.members(Self.generationDefaults)
        let base = Self.members(Self.baseDefaults).merging(generationDefaults) { first, _ in first }

        // T5Config.__init__: its own fields, then PretrainedConfig's with the rest as attributes.
        var values = base
        for (key, value) in classDefaults { values[key] = value }
        for member in given where !Self.dropped.contains(member.key) { values[member.key] = member.value }
        let givenByKey = Dictionary(given.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        if case .string(let type)? = givenByKey["model_type"], type != modelType {
            throw ExportError("\(path): model_type is \"\(type)\" but \"\(modelType)\" was asked for")
        }
        if values["num_decoder_layers"] == nil || values["num_decoder_layers"] == .null {
            values["num_decoder_layers"] = values["num_layers"]
        }
        guard case .string(let projection) = values["feed_forward_proj"] ?? .null else {
            throw ExportError("\(path): 'feed_forward_proj' must be a string such as \"relu\" or \"gated-gelu\"")
        }
        let parts = projection.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || (parts.count == 2 && parts[0] == "gated") else {
            throw ExportError("\(path): feed_forward_proj \"\(projection)\" is not an activation or gated-{activation} (e.g. relu, gated-gelu)")
        }
        // T5Config's backwards compatibility: gated-gelu means gelu_new. A value the file gives wins
        // (PretrainedConfig sets the remaining keys after T5Config derived them).
        let activation = projection == "gated-gelu" ? "gelu_new" : String(parts.last!)
        values["dense_act_fn"] = givenByKey["dense_act_fn"] ?? .string(activation)
        values["is_gated_act"] = givenByKey["is_gated_act"] ?? .bool(parts[0] == "gated")
        values["architectures"] = .array([.string(architecture)])
        values["model_type"] = .string(modelType)
        values["dtype"] = .string("float32")

        // GenerationConfig.from_model_config at construction, then save_pretrained's move.
        var generation: [String: OrderedJSON] = ["_from_model_config": .bool(true)]
        for key in ["bos_token_id", "decoder_start_token_id", "eos_token_id", "pad_token_id"] {
            if let id = values[key], id != .null { generation[key] = id }
        }
        for (key, value) in generationDefaults {
            guard let set = values[key], set != .null, !Self.pythonEqual(set, value) else { continue }
            generation[key] = set
            values[key] = .null
        }
        if let useCache = values["use_cache"], Self.pythonEqual(useCache, .bool(false)) { generation["use_cache"] = useCache }
        for key in ["output_attentions", "output_hidden_states"] where Self.pythonEqual(values[key] ?? .null, .bool(true)) {
            generation[key] = .bool(true)
            generation["return_dict_in_generate"] = .bool(true)
        }

        // to_diff_dict: PretrainedConfig's fields only where they differ from its default or the class's.
        let written = values.filter { key, value in
            guard let baseValue = base[key] else { return true }
            return !Self.pythonEqual(value, baseValue) || !Self.pythonEqual(value, classDefaults[key] ?? value)
        }
        self.modelType = modelType
        configJSON = PythonJSON.dumps(Self.sortedForPython(.object(written.map { .init(key: $0.key, value: $0.value) }))) + "\n"
        generationConfigJSON = PythonJSON.dumps(Self.sortedForPython(.object(generation.map { .init(key: $0.key, value: $0.value) }))) + "\n"
        config = try ConfigReader(origin: path, data: Data(configJSON.utf8))
    }

    /// An object literal of this file's tables as a dictionary.
    static func members(_ text: String) -> [String: OrderedJSON] {
        guard case .object(let members)? = try? OrderedJSONParser.parse(Array(text.utf8)) else { preconditionFailure("bad table") }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// The value as Python's `json` module reads and writes it back: object keys in code-point
    /// order (`sort_keys`), the last of equal keys kept (a dict), integers as they are (`-0` is 0),
    /// other numbers as Python's float repr.
    static func sortedForPython(_ value: OrderedJSON) -> OrderedJSON {
        switch value {
        case .object(let members):
            var last: [String: OrderedJSON] = [:]
            for member in members { last[member.key] = member.value }
            let keys = last.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            return .object(keys.map { .init(key: $0, value: sortedForPython(last[$0]!)) })
        case .array(let items): return .array(items.map(sortedForPython))
        case .number(let literal):
            if isInteger(literal) { return .number(literal == "-0" ? "0" : literal) }
            return .number(PythonJSON.floatLiteral(Double(literal) ?? .nan))
        default: return value
        }
    }

    static func isInteger(_ literal: String) -> Bool { !literal.contains { ".eE".contains($0) } }

    /// Python's `==` on the values `json.loads` gives: numbers and booleans by value (`1 == 1.0 == True`),
    /// dicts whatever their order.
    static func pythonEqual(_ a: OrderedJSON, _ b: OrderedJSON) -> Bool {
        func number(_ v: OrderedJSON) -> Double? {
            switch v {
            case .bool(let x): return x ? 1 : 0
            case .number(let literal): return Double(literal)
            default: return nil
            }
        }
        switch (a, b) {
        case (.number(let x), .number(let y)) where isInteger(x) && isInteger(y): return (x == "-0" ? "0" : x) == (y == "-0" ? "0" : y)
        case (.number, _), (_, .number), (.bool, .bool): return number(a) != nil && number(a) == number(b)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(pythonEqual)
        case (.object, .object):
            guard case .object(let x) = sortedForPython(a), case .object(let y) = sortedForPython(b) else { return false }
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && pythonEqual($0.value, $1.value) }
        default: return a == b
        }
    }
}
