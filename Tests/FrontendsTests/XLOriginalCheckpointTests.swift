import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// XLNet's and Transformer-XL's TensorFlow checkpoints (`Tests/Fixtures/xlnet-tf`, `transfo-xl-tf`, made by
/// make_xl_fixtures.py with TensorFlow and converted there by transformers 4.57), read as its converters
/// read them, and hand-made stores for the rules.
@Suite struct XLOriginalCheckpointTests {
    static let fixtures: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func meta(_ root: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(root)/meta.json"))) as? [String: Any])
    }

    static func entry(_ root: String, _ name: String) throws -> [String: Any] {
        try #require((try meta(root)["checkpoints"] as? [String: Any])?[name] as? [String: Any])
    }

    /// The reference folder's tensors (safetensors, or 4.57's torch file where it could not write safetensors).
    static func reference(_ folder: String) throws -> [String: TensorData] {
        let safetensors = "\(folder)/model.safetensors"
        return FileManager.default.fileExists(atPath: safetensors)
            ? try SafetensorsReader.read(file: safetensors) : try PyTorchReader.read(file: "\(folder)/pytorch_model.bin")
    }

    /// `text` as transformers wrote it, without its `transformers_version` line.
    static func withoutVersion(_ path: String) throws -> String {
        let saved = try String(contentsOfFile: path, encoding: .utf8)
        return saved.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("\"transformers_version\"") }.joined(separator: "\n").replacingOccurrences(of: ",\n}", with: "\n}")
    }

    static func expectMatches(_ tensors: [String: TensorData], root: String, name: String) throws {
        let entry = try entry(root, name)
        let folder = "\(fixtures)/\(root)/\(try #require(entry["reference"] as? String))"
        let dropped = Set(entry["tied_not_written"] as? [String] ?? [])
        let saved = try reference(folder).filter { !dropped.contains($0.key) }
        #expect(tensors.keys.sorted() == saved.keys.sorted())
        for (key, tensor) in tensors {
            #expect(tensor.dtype == .float32 && tensor.shape == saved[key]?.shape, "\(key)")
            #expect(try tensor.materialize() == saved[key]?.materialize(), "\(key)")
        }
    }

    @Test(arguments: [("base", "xlnet_model.ckpt", nil), ("mnli", "model.ckpt-300", "MNLI"), ("sts-b", "model.ckpt-200", "sts-b"),
                      ("squad", "model.ckpt-100", "squad")] as [(String, String, String?)])
    func xlnetConvertsAsTransformersScriptDoes(name: String, prefix: String, task: String?) throws {
        let folder = "\(Self.fixtures)/xlnet-tf/\(name)"
        let store = WeightStore(origin: "ckpt", tensors: try TensorBundleReader.read(prefix: "\(folder)/\(prefix)"))
        let config = try XLNetConfigFile(path: "\(folder)/xlnet_config.json", finetuningTask: task)
        let checkpoint = try XLNetTFCheckpoint(store: store, config: config)
        try Self.expectMatches(checkpoint.tensors, root: "xlnet-tf", name: name)
        #expect(config.architecture == (try Self.entry("xlnet-tf", name)["architecture"] as? String))
        #expect(config.configJSON == (try Self.withoutVersion("\(folder)/reference/config.json")))
        if name == "base" {
            #expect(config.generationConfigJSON == (try Self.withoutVersion("\(folder)/reference/generation_config.json")))
        } else {
            #expect(config.generationConfigJSON == nil)
            #expect(checkpoint.notes.first?.hasPrefix("transformer.mask_emb written as zeros") == true)
        }
        #expect(checkpoint.notes.contains { $0.hasPrefix("left out") && $0.contains("*/Adam and */Adam_1") })
        #expect(checkpoint.notes.contains("left out training state: beta1_power, beta2_power, global_step"))
    }

    @Test(arguments: ["untied", "tied"])
    func transfoXLConvertsAsTransformersScriptDoes(name: String) throws {
        let folder = "\(Self.fixtures)/transfo-xl-tf/\(name)"
        let prefix = name == "untied" ? "model.ckpt-500" : "model.ckpt-600"
        let store = WeightStore(origin: "ckpt", tensors: try TensorBundleReader.read(prefix: "\(folder)/\(prefix)"))
        let config = try TransfoXLConfigFile(path: "\(folder)/config.json")
        let checkpoint = try TransfoXLTFCheckpoint(store: store, config: config.config)
        try Self.expectMatches(checkpoint.tensors, root: "transfo-xl-tf", name: name)
        #expect(config.configJSON == (try Self.withoutVersion("\(folder)/reference/config.json")))
        let slots = store.tensors.keys.filter { $0.hasSuffix("/Adam") || $0.hasSuffix("/Adam_1") }.count
        #expect(slots > 0 && checkpoint.notes == ["left out \(slots) optimizer slot variables (Adam's moments, */Adam and */Adam_1)",
                                                  "left out training state: beta1_power, beta2_power, global_step"])
    }

    /// PositionalEmbedding's buffer against torch's for wt103's width and others: torch's vectorised
    /// float32 pow (SLEEF, 1-ulp accurate) misses the correctly rounded power used here by an ulp for
    /// a few exponents, which the reciprocal can make two (8 of these 806 values differ).
    @Test func inverseFrequenciesAreWithinTwoUlpsOfTorch() throws {
        let torch = try #require(try Self.meta("transfo-xl-tf")["inv_freq"] as? [String: [Double]])
        var differing = 0
        for (width, values) in torch {
            let ours = try TransfoXLTFCheckpoint.inverseFrequencies(try #require(Int(width))).materialize().withUnsafeBytes {
                Array($0.bindMemory(to: Float.self))
            }
            #expect(ours.count == values.count)
            for (a, b) in zip(ours, values.map(Float.init)) {
                #expect(abs(Int64(a.bitPattern) - Int64(b.bitPattern)) <= 2, "width \(width): \(a) vs torch \(b)")
                if a != b { differing += 1 }
            }
        }
        #expect(differing < 10)
    }

    // MARK: hand-made stores

    func store(_ shapes: [String: [Int]], dtype: DataType = .float32) -> WeightStore {
        WeightStore(origin: "ckpt", tensors: shapes.mapValues { shape in
            let count = shape.reduce(1, *)
            let bytes = (0..<count).flatMap { i -> [UInt8] in
                dtype == .float32 ? withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init)
                    : [UInt8](repeating: UInt8(i & 0x3f), count: dtype.byteSize)
            }
            return TensorData(dtype: dtype, shape: shape, storage: .inline(bytes))
        })
    }

    /// A two-layer XLNet (d_model 4, 2 heads of 2, d_inner 3, vocab 5) in zihangdai/xlnet's names.
    func tinyXLNet(untieR: Bool = true, head: String = "lm") -> [String: [Int]] {
        let t = "model/transformer"
        var shapes: [String: [Int]] = ["\(t)/word_embedding/lookup_table": [5, 4], "\(t)/seg_embed": [2, 2, 2, 2]]
        for bias in ["r_w_bias", "r_r_bias", "r_s_bias"] { shapes["\(t)/\(bias)"] = untieR ? [2, 2, 2] : [2, 2] }
        for i in 0..<2 {
            for p in ["q", "k", "v", "r", "o"] { shapes["\(t)/layer_\(i)/rel_attn/\(p)/kernel"] = [4, 2, 2] }
            for norm in ["rel_attn", "ff"] { for leaf in ["gamma", "beta"] { shapes["\(t)/layer_\(i)/\(norm)/LayerNorm/\(leaf)"] = [4] } }
            shapes["\(t)/layer_\(i)/ff/layer_1/kernel"] = [4, 3]
            shapes["\(t)/layer_\(i)/ff/layer_1/bias"] = [3]
            shapes["\(t)/layer_\(i)/ff/layer_2/kernel"] = [3, 4]
            shapes["\(t)/layer_\(i)/ff/layer_2/bias"] = [4]
        }
        switch head {
        case "lm": shapes["model/lm_loss/bias"] = [5]; shapes["\(t)/mask_emb/mask_emb"] = [1, 1, 4]
        default:
            shapes["model/sequnece_summary/summary/kernel"] = [4, 4]
            shapes["model/sequnece_summary/summary/bias"] = [4]
            shapes["model/\(head)/logit/kernel"] = [4, 3]
            shapes["model/\(head)/logit/bias"] = [3]
        }
        return shapes
    }

    static let tinyXLNetConfig = #"{"d_model": 4, "n_head": 2, "d_inner": 3, "n_layer": 2, "n_token": 5, "untie_r": true}"#

    func convertXLNet(_ shapes: [String: [Int]], config: String = tinyXLNetConfig, task: String? = nil, dtype: DataType = .float32) throws -> XLNetTFCheckpoint {
        let file = try XLNetConfigFile(data: Data(config.utf8), origin: "xlnet_config.json", finetuningTask: task)
        return try XLNetTFCheckpoint(store: store(shapes, dtype: dtype), config: file)
    }

    @Test func xlnetLayersTakeTheirSliceOfStackedBiasesOrACopyOfSharedOnes() throws {
        let untied = try convertXLNet(tinyXLNet())
        #expect(untied.tensors.count == 2 * 17 + 3)  // per layer 4 biases, 5 projections, 2 norms, 2 dense; embedding, mask_emb, lm_loss.bias
        let second = try #require(untied.tensors["transformer.layer.1.rel_attn.r_s_bias"])
        #expect(second.shape == [2, 2])
        // Entry 1 of [2, 2, 2] holds elements 4..<8 (the store counts up from 0 in every tensor).
        #expect(try second.materialize() == [4, 5, 6, 7].flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })
        #expect(untied.tensors["transformer.layer.1.rel_attn.seg_embed"]?.shape == [2, 2, 2])
        #expect(untied.tensors["transformer.layer.0.ff.layer_1.weight"]?.shape == [3, 4])
        #expect(untied.tensors["transformer.layer.0.rel_attn.q"]?.shape == [4, 2, 2])
        #expect(untied.tensors["lm_loss.weight"] == nil && untied.tensors["lm_loss.bias"]?.shape == [5])

        let shared = try convertXLNet(tinyXLNet(untieR: false), config: Self.tinyXLNetConfig.replacingOccurrences(of: "true", with: "false"))
        #expect(try shared.tensors["transformer.layer.0.rel_attn.r_w_bias"]?.materialize()
                == shared.tensors["transformer.layer.1.rel_attn.r_w_bias"]?.materialize())
        #expect(shared.tensors["transformer.layer.1.rel_attn.r_w_bias"]?.shape == [2, 2])
        // Half-precision variables are widened; integers are refused.
        #expect(try convertXLNet(tinyXLNet(), dtype: .float16).tensors.values.allSatisfy { $0.dtype == .float32 })
        #expect { try convertXLNet(tinyXLNet(), dtype: .int32) } throws: { "\($0)".contains("holds int32 values") }
    }

    @Test func xlnetHeadsFollowTheTask() throws {
        var mnli = tinyXLNet(head: "classification_mnli")
        mnli["global_step"] = []
        mnli["model/classification_mnli/logit/kernel/Adam"] = [4, 3]
        mnli["beta1_power"] = []
        let classifier = try convertXLNet(mnli, task: "mnli")
        #expect(classifier.tensors["logits_proj.weight"]?.shape == [3, 4])
        #expect(classifier.tensors["sequence_summary.summary.weight"]?.shape == [4, 4])
        #expect(try classifier.tensors["transformer.mask_emb"]?.materialize() == [UInt8](repeating: 0, count: 16))
        #expect(classifier.notes.dropFirst() == ["left out 1 optimizer slot variables (Adam's moments, */Adam and */Adam_1)",
                                                  "left out training state: beta1_power, global_step"])
        // The regression scope the loader knows, for a one-label task.
        var stsb = tinyXLNet(head: "regression_sts-b")
        stsb["model/regression_sts-b/logit/kernel"] = [4, 1]
        stsb["model/regression_sts-b/logit/bias"] = [1]
        #expect(try convertXLNet(stsb, task: "STS-B").tensors["logits_proj.weight"]?.shape == [1, 4])
        // Two labels where the task has three.
        var sst = tinyXLNet(head: "classification_sst-2")
        #expect { try convertXLNet(sst, task: "sst-2") } throws: {
            "\($0)".contains("'model/classification_sst-2/logit/kernel' has shape [4, 3]") && "\($0)".contains("gives [4, 2]")
        }
        sst["model/sequnece_summary/summary/kernel"] = nil
        sst["model/sequnece_summary/summary/bias"] = nil
        sst["model/classification_sst-2/logit/kernel"] = [4, 2]
        sst["model/classification_sst-2/logit/bias"] = [2]
        #expect { try convertXLNet(sst, task: "sst-2") } throws: { "\($0)".contains("needs \"summary_use_proj\": false") }
        #expect(try convertXLNet(sst, config: Self.tinyXLNetConfig.replacingOccurrences(of: "}", with: #", "summary_use_proj": false}"#),
                                 task: "sst-2").tensors["sequence_summary.summary.weight"] == nil)
        #expect { try convertXLNet(sst, config: Self.tinyXLNetConfig.replacingOccurrences(of: "}", with: #", "summary_type": "attn"}"#),
                                   task: "sst-2") } throws: { "\($0)".contains("summary_type \"attn\"") }
        #expect { try convertXLNet(tinyXLNet(), task: "race") } throws: { "\($0)".contains("neither a GLUE task") }
    }

    @Test func xlnetConfigIsWrittenAsXLNetConfigWritesIt() throws {
        let text = #"{"n_token": 9, "vocab_size": 7, "d_model": 6, "n_head": 3, "num_hidden_layers": 2, "use_cache": false, "torch_dtype": "float16", "id2label": {"10": "x", "2": "y", "0": "z"}}"#
        let file = try XLNetConfigFile(data: Data(text.utf8), origin: "c.json", finetuningTask: "Squad2")
        let c = file.config
        #expect(try c.int("vocab_size") == 9 && c.int("n_layer") == 2 && c.int("d_head") == 2 && !c.bool("use_mems_eval"))
        #expect(try c.string("finetuning_task") == "squad2" && c.string("dtype") == "float32" && !c.has("n_token") && !c.has("torch_dtype"))
        #expect(file.head == .questionAnswering && file.architecture == "XLNetForQuestionAnswering")
        // id2label's integer keys in numeric order, as json.dumps(sort_keys=True) orders ints.
        #expect(file.configJSON.contains(#""0": "z",\#n    "2": "y",\#n    "10": "x""#))
        let mnli = try XLNetConfigFile(data: Data(text.utf8), origin: "c.json", finetuningTask: "mnli")
        #expect(mnli.head == .sequenceClassification(labels: 3))  // three labels already: kept as given
        #expect(mnli.configJSON.contains(#""10": "x""#))
        let cola = try XLNetConfigFile(data: Data(text.utf8), origin: "c.json", finetuningTask: "cola")
        #expect(!cola.configJSON.contains("id2label"))  // two new LABEL_i: PretrainedConfig's default, not written
        for (bad, fragment) in [(#"{"d_model": 6, "n_head": 4}"#, "not a positive multiple of n_head"),
                                (#"{"d_model": 6, "n_head": 3, "d_head": 3}"#, "d_head 3 is not d_model / n_head = 2"),
                                (#"{"max_position_embeddings": 512}"#, "no max_position_embeddings"),
                                (#"{"model_type": "bert"}"#, "model_type is \"bert\" but \"xlnet\" was asked for")] {
            #expect { try XLNetConfigFile(data: Data(bad.utf8), origin: "c.json", finetuningTask: nil) } throws: { "\($0)".contains(fragment) }
        }
    }

    // MARK: Transformer-XL

    /// A one-layer Transformer-XL: vocab 6, cutoffs [2, 4], d_embed 4, div_val 2 (widths 4, 2, 1), d_model 4,
    /// 2 heads of 1, d_inner 3.
    func tinyTransfoXL(untieR: Bool = true, untied: [Int] = [0]) -> [String: [Int]] {
        var shapes: [String: [Int]] = ["transformer/r_w_bias": untieR ? [1, 2, 1] : [2, 1], "transformer/r_r_bias": untieR ? [1, 2, 1] : [2, 1],
                                       "transformer/adaptive_softmax/cutoff_0/cluster_W": [2, 4],
                                       "transformer/adaptive_softmax/cutoff_0/cluster_b": [2]]
        for (i, width) in [4, 2, 1].enumerated() {
            shapes["transformer/adaptive_embed/cutoff_\(i)/lookup_table"] = [2, width]
            shapes["transformer/adaptive_embed/cutoff_\(i)/proj_W"] = [width, 4]
            shapes["transformer/adaptive_softmax/cutoff_\(i)/b"] = [2]
            if untied.contains(i) { shapes["transformer/adaptive_softmax/cutoff_\(i)/proj"] = [width, 4] }
        }
        let layer = "transformer/layer_0"
        shapes["\(layer)/rel_attn/qkv/kernel"] = [4, 6]
        shapes["\(layer)/rel_attn/r/kernel"] = [4, 2]
        shapes["\(layer)/rel_attn/o/kernel"] = [2, 4]
        for norm in ["rel_attn", "ff"] { for leaf in ["gamma", "beta"] { shapes["\(layer)/\(norm)/LayerNorm/\(leaf)"] = [4] } }
        shapes["\(layer)/ff/layer_1/kernel"] = [4, 3]
        shapes["\(layer)/ff/layer_1/bias"] = [3]
        shapes["\(layer)/ff/layer_2/kernel"] = [3, 4]
        shapes["\(layer)/ff/layer_2/bias"] = [4]
        return shapes
    }

    static let tinyTransfoXLConfig = #"{"n_token": 6, "cutoffs": [2, 4], "d_embed": 4, "div_val": 2, "d_model": 4, "n_head": 2, "d_head": 1, "d_inner": 3, "n_layer": 1}"#

    func convertTransfoXL(_ shapes: [String: [Int]], config: String = tinyTransfoXLConfig) throws -> TransfoXLTFCheckpoint {
        let file = try TransfoXLConfigFile(data: Data(config.utf8), origin: "config.json")
        return try TransfoXLTFCheckpoint(store: store(shapes), config: file.config)
    }

    @Test func transfoXLNamesLayoutsAndBuffer() throws {
        let converted = try convertTransfoXL(tinyTransfoXL())
        #expect(converted.tensors["transformer.word_emb.emb_projs.2"]?.shape == [4, 1])
        #expect(converted.tensors["crit.out_projs.0"]?.shape == [4, 4] && converted.tensors["crit.out_projs.1"] == nil)
        #expect(converted.tensors["crit.out_layers.0.weight"] == nil && converted.tensors["crit.out_layers.2.bias"]?.shape == [2])
        #expect(converted.tensors["transformer.layers.0.dec_attn.qkv_net.weight"]?.shape == [6, 4])
        #expect(converted.tensors["transformer.layers.0.pos_ff.CoreNet.3.weight"]?.shape == [4, 3])
        #expect(converted.tensors["transformer.layers.0.dec_attn.r_w_bias"]?.shape == [2, 1])
        #expect(converted.tensors["transformer.pos_emb.inv_freq"]?.shape == [2])
        // One layer's stacked biases ([1, n_head, d_head]) are sliced too: 4.57's loader fails on them.
        // 2 biases, 3 clusters × (table, proj_W, b), out_projs.0, 11 layer weights, cluster_weight/bias, inv_freq
        #expect(converted.tensors.count == 26)
        // Shared biases: the model's and every layer's alias.
        let shared = try convertTransfoXL(tinyTransfoXL(untieR: false), config: Self.tinyTransfoXLConfig.replacingOccurrences(of: "}", with: #", "untie_r": false}"#))
        #expect(shared.tensors["transformer.r_w_bias"]?.shape == [2, 1] && shared.tensors["transformer.layers.0.dec_attn.r_w_bias"]?.shape == [2, 1])
        // Every projection untied.
        let untied = try convertTransfoXL(tinyTransfoXL(untied: [0, 1, 2]),
                                          config: Self.tinyTransfoXLConfig.replacingOccurrences(of: "}", with: #", "proj_share_all_but_first": false}"#))
        #expect(untied.tensors["crit.out_projs.2"]?.shape == [4, 1])
    }

    @Test func transfoXLRefusals() {
        func refused(_ shapes: [String: [Int]], config: String = XLOriginalCheckpointTests.tinyTransfoXLConfig, _ fragments: String...) {
            #expect { try convertTransfoXL(shapes, config: config) } throws: { error in fragments.allSatisfy { "\(error)".contains($0) } }
        }
        var extra = tinyTransfoXL()
        extra["transformer/adaptive_softmax/cutoff_1/proj"] = [2, 4]
        refused(extra, "'transformer/adaptive_softmax/cutoff_1/proj'", "ties cluster 1's")
        var missing = tinyTransfoXL()
        missing["transformer/layer_0/ff/layer_2/bias"] = nil
        refused(missing, "'transformer/layer_0/ff/layer_2/bias' is missing", "transformer.layers.0.pos_ff.CoreNet.3.bias")
        var oneLayer = tinyTransfoXL()
        oneLayer["transformer/layer_1/ff/layer_2/bias"] = [4]
        refused(oneLayer, "'transformer/layer_1/ff/layer_2/bias'", "n_layer is 1")
        var divVal1 = tinyTransfoXL()
        divVal1["transformer/adaptive_embed/lookup_table"] = [6, 4]
        refused(divVal1, "'transformer/adaptive_embed/lookup_table'", "div_val 1")
        let config = Self.tinyTransfoXLConfig
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "\"d_model\": 4", with: "\"d_model\": 5"), "d_model 5 is odd")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "[2, 4]", with: "[4, 2]"), "must rise strictly")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "\"div_val\": 2", with: "\"div_val\": 8"), "cluster 1's embedding width")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "}", with: #", "tie_projs": [false, true]}"#), "tie_projs has 2 entries for 3 clusters")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "}", with: #", "attn_type": 1}"#), "attn_type 1 is not 0")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "}", with: #", "sample_softmax": 4}"#), "sample_softmax 4")
        refused(tinyTransfoXL(), config: config.replacingOccurrences(of: "}", with: #", "tie_word_embeddings": false}"#), "tie_word_embeddings false")
    }

    @Test func transfoXLConfigIsWrittenAsTransfoXLConfigWritesIt() throws {
        let defaults = try TransfoXLConfigFile(path: nil)
        #expect(try defaults.config.int("vocab_size") == 267735 && defaults.config.int("n_layer") == 18)
        #expect(defaults.configJSON.contains("\"tie_projs\": [\n    false,\n    true,\n    true,\n    true\n  ]"))
        #expect(!defaults.configJSON.contains("proj_share_all_but_first") && !defaults.configJSON.contains("generation"))
        let given = try TransfoXLConfigFile(data: Data(#"{"cutoffs": [3], "proj_share_all_but_first": false, "tie_projs": [true, true], "n_token": 4, "tgt_len": 128}"#.utf8),
                                            origin: "c.json")
        #expect(given.configJSON.contains("\"tie_projs\": [\n    true,\n    true\n  ]") && given.configJSON.contains("\"tgt_len\": 128"))
        #expect(try given.config.int("vocab_size") == 4 && !given.config.has("n_token"))
        let derived = try TransfoXLConfigFile(data: Data(#"{"cutoffs": [3, 5], "proj_share_all_but_first": 0}"#.utf8), origin: "c.json")
        #expect(derived.configJSON.contains("\"tie_projs\": [\n    false,\n    false,\n    false\n  ]"))
    }

    @Test func labelMapsFollowPretrainedConfig() throws {
        let t5 = PretrainedConfigFile.ConfigClass(modelType: "t5", defaults: "{}")
        let fromCount = try PretrainedConfigFile(data: Data(#"{"num_labels": 3, "label2id": {"a": 0}}"#.utf8), origin: "c", configClass: t5)
        #expect(fromCount.labelCount == 3 && fromCount.values["num_labels"] == nil)
        #expect(fromCount.values["label2id"] == .object((0..<3).map { .init(key: "LABEL_\($0)", value: .number(String($0))) }))
        let given = try PretrainedConfigFile(data: Data(#"{"id2label": {"01": "a", "1": "b"}}"#.utf8), origin: "c", configClass: t5)
        #expect(given.labelCount == 1 && given.values["label2id"] == .null)
        #expect { try PretrainedConfigFile(data: Data(#"{"id2label": {"x": "a"}}"#.utf8), origin: "c", configClass: t5) } throws: {
            "\($0)".contains("id2label key \"x\" is not an integer")
        }
    }
}
