import Foundation
import ONNXExportIR

/// A transformers config class (`T5Config`, `XLNetConfig`, `TransfoXLConfig`, ...) as a conversion
/// script uses it: `from_json_file` reads a JSON file into the class, the script sets a few fields,
/// and `save_pretrained` of the model built from it writes `config.json` (and, for a model that can
/// generate, `generation_config.json`). This type does the same without Python:
///
/// - `__init__`: `PretrainedConfig`'s defaults, the class's own, then the file's keys (minus those
///   `PretrainedConfig` consumes, aliases of `attribute_map` written under their field);
///   `num_labels` / `id2label` / `label2id` become the label maps as `PretrainedConfig` builds them;
///   the class's own derivations (T5's `feed_forward_proj`, XLNet's `d_head`) are the caller's;
/// - `save_pretrained`: `architectures` the model's class, `model_type` the class's, `dtype`
///   `"float32"`; generation parameters that differ from their defaults moved to
///   `generation_config.json` and `null` in `config.json`; `to_diff_dict` (`PretrainedConfig`'s fields
///   only where they differ from its default or from the class's); `json.dumps(indent=2,
///   sort_keys=True)`'s text, numbers as Python writes them back.
///
/// `transformers_version` is not written: no transformers wrote these files.
struct PretrainedConfigFile {
    /// A config class: its `model_type`, the defaults of `__init__` beyond `PretrainedConfig`'s (JSON
    /// text), and its `attribute_map`.
    struct ConfigClass {
        public var modelType: String
        public var defaults: String
        public var attributeMap: [String: String]

        public init(modelType: String, defaults: String, attributeMap: [String: String] = [:]) {
            self.modelType = modelType; self.defaults = defaults; self.attributeMap = attributeMap
        }
    }

    /// The config's fields after `__init__`, before `save_pretrained`; callers derive and set fields here.
    var values: [String: OrderedJSON]
    /// The file's keys (aliases renamed), for derivations where a given value wins.
    let given: [String: OrderedJSON]
    public let configClass: ConfigClass
    public let origin: String

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

    /// The file at `path`, read into `configClass` (`what` names the expected file in messages).
    public init(path: String, configClass: ConfigClass, what: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExportError("\(path): no such file (--config takes \(what))")
        }
        let data = Data(try ReadOnlyFile.contents(of: path, atMost: ConfigReader.maximumFileSize, what: "a config"))
        try self.init(data: data, origin: path, configClass: configClass)
    }

    /// `__init__` of `configClass` on the JSON object in `data`; `origin` names it in messages.
    public init(data: Data, origin path: String, configClass: ConfigClass) throws {
        let members: [OrderedJSON.Member]
        do {
            guard case .object(let object) = try OrderedJSONParser.parse([UInt8](data)) else {
                throw ExportError("\(path): expected a JSON object at the top level")
            }
            members = object
        } catch let error as OrderedJSONSyntaxError {
            throw ExportError("\(path): not valid JSON (\(error.detail))")
        }
        self.configClass = configClass
        origin = path
        var values = try Self.members(Self.baseDefaults).merging(try Self.members(Self.generationDefaults)) { first, _ in first }
        for (key, value) in try Self.members(configClass.defaults) { values[key] = value }
        // Fields first, then aliases: PretrainedConfig sets the aliases (kwargs) after __init__'s fields.
        var given: [String: OrderedJSON] = [:]
        for member in members where !Self.dropped.contains(member.key) && configClass.attributeMap[member.key] == nil {
            given[member.key] = member.value
        }
        for member in members {
            if let field = configClass.attributeMap[member.key] { given[field] = member.value }
        }
        if case .string(let type)? = given["model_type"], type != configClass.modelType {
            throw ExportError("\(path): model_type is \"\(type)\" but \"\(configClass.modelType)\" was asked for")
        }
        let labelKeys: Set<String> = ["num_labels", "id2label", "label2id"]
        for (key, value) in given where !labelKeys.contains(key) { values[key] = value }
        self.given = given
        self.values = values
        try readLabels()
    }

    /// `PretrainedConfig.__init__`'s label maps: `id2label` as given (its keys read as integers),
    /// else `num_labels` (default 2) labels `LABEL_i`; `num_labels` itself is not a field.
    mutating func readLabels() throws {
        if let label2id = given["label2id"], label2id != .null {
            guard case .object = label2id else { throw ExportError("\(origin): 'label2id' must be an object") }
            values["label2id"] = label2id
        } else {
            values["label2id"] = .null
        }
        if let id2label = given["id2label"], id2label != .null {
            guard case .object(let members) = id2label else { throw ExportError("\(origin): 'id2label' must be an object") }
            values["id2label"] = .object(try members.map { member in
                guard let id = Int(member.key.trimmingCharacters(in: .whitespaces)) else {
                    throw ExportError("\(origin): id2label key \"\(member.key)\" is not an integer")
                }
                return .init(key: String(id), value: member.value)
            })
        } else {
            var count = 2
            if let n = given["num_labels"] {
                guard let value = n.nonNegativeInt else { throw ExportError("\(origin): 'num_labels' must be a non-negative integer") }
                count = value
            }
            createLabelMaps(count)
        }
    }

    /// `_create_id_label_maps`: `LABEL_i` for every id, and the reverse.
    mutating func createLabelMaps(_ count: Int) {
        values["id2label"] = .object((0..<count).map { .init(key: String($0), value: .string("LABEL_\($0)")) })
        values["label2id"] = .object((0..<count).map { .init(key: "LABEL_\($0)", value: .number(String($0))) })
    }

    /// The number of labels, from `id2label`.
    public var labelCount: Int {
        if case .object(let members)? = values["id2label"] { return Set(members.map(\.key)).count }
        return 0
    }

    /// `config.num_labels = count`: new `LABEL_i` maps unless `id2label` already has that many.
    public mutating func setLabelCount(_ count: Int) {
        if case .object? = values["id2label"], labelCount == count { return }
        createLabelMaps(count)
    }

    /// What `save_pretrained` of `architecture` (a model built from this config) writes:
    /// `config.json`, and `generation_config.json` when the model can generate.
    public func saved(architecture: String, canGenerate: Bool) throws -> (configJSON: String, generationConfigJSON: String?, config: ConfigReader) {
        var values = self.values
        let classDefaults = try Self.members(configClass.defaults)
        let generationDefaults = try Self.members(Self.generationDefaults)
        let base = try Self.members(Self.baseDefaults).merging(generationDefaults) { first, _ in first }
        values["architectures"] = .array([.string(architecture)])
        values["model_type"] = .string(configClass.modelType)
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
        let configJSON = PythonJSON.dumps(Self.sortedForPython(.object(written.map { .init(key: $0.key, value: $0.value) }))) + "\n"
        let generationJSON = canGenerate
            ? PythonJSON.dumps(Self.sortedForPython(.object(generation.map { .init(key: $0.key, value: $0.value) }))) + "\n"
            : nil
        return (configJSON, generationJSON, try ConfigReader(origin: origin, data: Data(configJSON.utf8)))
    }

    /// An object literal of this file's tables as a dictionary (a table that does not parse is an
    /// error of this file, reported rather than trapped).
    static func members(_ text: String) throws -> [String: OrderedJSON] {
        guard case .object(let members)? = try? OrderedJSONParser.parse(Array(text.utf8)) else {
            throw ExportError("internal: a config defaults table of PretrainedConfigFile is not a JSON object")
        }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// The value as Python's `json` module reads and writes it back: object keys in code-point
    /// order (`sort_keys`; `id2label`'s integer keys in numeric order, as they are ints there), the
    /// last of equal keys kept (a dict), integers as they are (`-0` is 0), other numbers as
    /// Python's float repr.
    static func sortedForPython(_ value: OrderedJSON, key: String? = nil) -> OrderedJSON {
        switch value {
        case .object(let members):
            var last: [String: OrderedJSON] = [:]
            for member in members { last[member.key] = member.value }
            let numeric = key == "id2label" && last.keys.allSatisfy { Int($0) != nil }
            let keys = last.keys.sorted { a, b in
                if numeric, let x = Int(a), let y = Int(b) { return x < y }
                return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
            }
            return .object(keys.compactMap { key in last[key].map { .init(key: key, value: sortedForPython($0, key: key)) } })
        case .array(let items): return .array(items.map { sortedForPython($0) })
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

    /// A given integer field, for the class's own checks (`d_model`, `n_head`, ...).
    public func int(_ key: String) throws -> Int {
        guard let value = values[key], case .number(let literal) = value, Self.isInteger(literal), let n = Int(literal) else {
            throw ExportError("\(origin): '\(key)' must be an integer, not \(values[key]?.briefDescription ?? "missing")")
        }
        return n
    }
}
