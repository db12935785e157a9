import Foundation
import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

@Suite struct NameTableTests {
    func store(_ shapes: [String: [Int]]) -> WeightStore {
        WeightStore(origin: "ckpt", tensors: shapes.mapValues { shape in
            TensorData(dtype: .float32, shape: shape, storage: .inline([UInt8](repeating: 0, count: shape.reduce(1, *) * 4)))
        })
    }

    @Test func googleBERTNamesBecomeTransformersNames() throws {
        let original = store(["bert/encoder/layer_11/attention/self/query/kernel": [8, 4],
                              "bert/embeddings/LayerNorm/gamma": [8], "cls/predictions/output_bias": [30],
                              "bert/encoder/layer_0/attention/self/query/kernel/adam_m": [8, 4], "global_step": []])
        let translated = try BERT.googleNames.translate(original)
        #expect(Set(translated.tensors.keys) == ["bert.encoder.layer.11.attention.self.query.weight",
                                                 "bert.embeddings.LayerNorm.weight", "cls.predictions.bias"])
        #expect(translated.tensors["bert.encoder.layer.11.attention.self.query.weight"]?.shape == [4, 8])  // kernel transposed
    }

    @Test func gpt2ConvWeightsLoseTheirLeadingAxis() throws {
        let translated = try GPT2.openAINames.translate(store(["model/h3/attn/c_attn/w": [1, 6, 18], "model/wte": [10, 6]]))
        #expect(translated.tensors["h.3.attn.c_attn.weight"]?.shape == [6, 18])
        #expect(translated.tensors["wte.weight"]?.shape == [10, 6])
    }

    @Test func openAINumpyParametersAreNamedByPosition() throws {
        let translated = try OpenAIGPT.numpyNames.translate(store(["params.0": [16, 6], "params.1": [20, 6], "params.2": [1, 6, 18], "params.13": [6]]))
        #expect(translated.tensors["positions_embed.weight"]?.shape == [16, 6])
        #expect(translated.tensors["h.0.attn.c_attn.weight"]?.shape == [6, 18])
        #expect(translated.tensors["h.0.ln_2.bias"] != nil)
    }

    @Test func aCheckpointWithNoKnownNamesIsRefused() {
        #expect(throws: ExportError.self) { try BERT.googleNames.translate(store(["something/else": [2]])) }
    }

    @Test func severalPlaceholdersKeepTheirOwnNumbers() throws {
        let table = NameTable([NameRule("block_{i}/part_{j}/w", "part.{j}.block.{i}.weight", .transpose),
                               NameRule("block_{i}/norm", "block.{i}.norm")])
        let translated = try table.translate(store(["block_12/part_3/w": [2, 5], "block_0/norm": [4], "block_x/norm": [4]]))
        #expect(Set(translated.tensors.keys) == ["part.3.block.12.weight", "block.0.norm"])
        #expect(translated.tensors["part.3.block.12.weight"]?.shape == [5, 2])
    }

    @Test func numbersLoseTheirLeadingZerosAsTheLoadersIntDoes() throws {
        let table = NameTable([NameRule("block_{b}/w", "block.{b}.weight")])
        let renamed = try table.rename(store(["block_007/w": [2], "block_000/w": [2], "block_120/w": [2], "other": [1]]))
        #expect(Set(renamed.store.tensors.keys) == ["block.7.weight", "block.0.weight", "block.120.weight"])
        #expect(renamed.sources["block.7.weight"] == "block_007/w")
        #expect(renamed.unmatched == ["other"])
        // Two spellings of one number are one weight: refused.
        #expect { try table.translate(store(["block_1/w": [2], "block_001/w": [2]])) } throws: { error in
            "\(error)".contains("both map to 'block.1.weight'")
        }
    }

    @Test func anOptionalPrefixIsMatchedWithAndWithout() throws {
        let table = NameTable([NameRule("bert/x_{i}", "x.{i}"), NameRule("output_bias", "bias")], optionalPrefixes: ["module/"])
        let translated = try table.translate(store(["module/bert/x_1": [2], "bert/x_2": [2], "output_bias": [2],
                                                    "module/bert/x_1/adam_m": [2], "prefix/bert/x_3": [2]]))
        #expect(Set(translated.tensors.keys) == ["x.1", "x.2", "bias"])
        // The same tensor with and without the prefix is ambiguous: refused, naming both.
        #expect { try table.translate(store(["module/bert/x_1": [2], "bert/x_1": [2]])) } throws: { error in
            "\(error)".contains("'bert/x_1' and 'module/bert/x_1' both map to 'x.1'")
        }
    }

    @Test func malformedRulesAreRefused() {
        #expect { try NameTable([NameRule("a_{i}", "a.{j}")]).translate(store(["a_1": [1]])) } throws: { error in
            "\(error)".contains("{j} is not in the original name")
        }
        #expect { try NameTable([NameRule("a_{i}/b_{i}", "a.{i}")]).translate(store(["a_1/b_1": [1]])) } throws: { error in
            "\(error)".contains("{i} appears more than once")
        }
    }

    @Test func bracesAroundAnythingButAWordStayLiteral() {
        #expect(NamePattern.split("a/{i}/b").map(\.placeholder) == [nil, "i", nil])
        #expect(NamePattern.split("a{B}/{}/{i").allSatisfy { $0.placeholder == nil })
    }

    @Test func googleALBERTNamesBecomeTransformersNames() throws {
        let layer = "bert/encoder/transformer/group_1/inner_group_2/"
        let translated = try ALBERT.googleNames.translate(store([
            layer + "attention_1/self/query/kernel": [8, 6], layer + "ffn_1/intermediate/output/dense/kernel": [12, 8],
            layer + "LayerNorm/gamma": [8], layer + "LayerNorm_1/beta": [8],
            "module/bert/embeddings/word_embeddings": [30, 4], "bert/encoder/embedding_hidden_mapping_in/kernel": [4, 8],
            "cls/predictions/transform/LayerNorm/gamma": [4], "cls/predictions/output_bias": [30],
            "cls/seq_relationship/output_weights": [2, 8], "cls/squad/output_bias": [2],
            layer + "attention_1/self/query/kernel/adam_m": [8, 6], "module/cls/predictions/output_bias/adam_v": [30], "global_step": [],
        ]))
        let target = "albert.encoder.albert_layer_groups.1.albert_layers.2."
        #expect(Set(translated.tensors.keys) == [
            target + "attention.query.weight", target + "ffn_output.weight", target + "attention.LayerNorm.weight",
            target + "full_layer_layer_norm.bias", "albert.embeddings.word_embeddings.weight",
            "albert.encoder.embedding_hidden_mapping_in.weight", "predictions.LayerNorm.weight", "predictions.bias",
            "sop_classifier.classifier.weight", "classifier.bias",
        ])
        #expect(translated.tensors[target + "attention.query.weight"]?.shape == [6, 8])  // kernels transposed
        #expect(translated.tensors[target + "ffn_output.weight"]?.shape == [8, 12])
        #expect(translated.tensors["albert.embeddings.word_embeddings.weight"]?.shape == [30, 4])  // embeddings not
        #expect(translated.tensors["sop_classifier.classifier.weight"]?.shape == [2, 8])  // already [labels, hidden]
    }

    @Test func albertFineTuningHeadsShareTheClassifierAsTransformersLoads() throws {
        // load_tf_weights_in_albert sends both run_classifier's output_* and cls/squad/output_* to `classifier`.
        let classifier = try ALBERT.googleNames.translate(store(["output_weights": [3, 8], "output_bias": [3]]))
        #expect(classifier.tensors["classifier.weight"]?.shape == [3, 8])
        let squad = try ALBERT.googleNames.translate(store(["cls/squad/output_weights": [2, 8]]))
        #expect(squad.tensors["classifier.weight"]?.shape == [2, 8])
        #expect(throws: ExportError.self) {
            try ALBERT.googleNames.translate(store(["output_weights": [3, 8], "cls/squad/output_weights": [2, 8]]))
        }
    }
}

@Suite struct ConfigLocatorTests {
    @Test func originalConfigsAreTranslated() throws {
        let bert = try ConfigLocator.translate(ConfigReader(origin: "bert_config.json", fields: [
            "hidden_size": 8, "num_hidden_layers": 2, "type_vocab_size": 2]), modelType: nil)
        #expect(try bert.string("model_type") == "bert")
        let gpt2 = try ConfigLocator.translate(ConfigReader(origin: "hparams.json", fields: [
            "n_vocab": 50, "n_ctx": 16, "n_embd": 8, "n_head": 2, "n_layer": 2]), modelType: nil)
        #expect(try gpt2.string("model_type") == "gpt2")
        #expect(try gpt2.int("vocab_size") == 50 && gpt2.int("n_positions") == 16)
    }

    @Test func albertConfigsAreToldApartFromBertOnes() throws {
        let albertKeys: [String: Any] = ["hidden_size": 8, "num_hidden_layers": 2, "type_vocab_size": 2, "embedding_size": 4,
                                         "num_hidden_groups": 1, "inner_group_num": 1, "net_structure_type": 0]
        let byKeys = try ConfigLocator.translate(ConfigReader(origin: "/x/config_original.json", fields: albertKeys), modelType: nil)
        #expect(try byKeys.string("model_type") == "albert")
        #expect(try byKeys.int("net_structure_type") == 0)  // original-only keys stay, as transformers keeps them
        let byName = try ConfigLocator.translate(ConfigReader(origin: "/x/albert_config.json", fields: ["num_hidden_layers": 2]), modelType: nil)
        #expect(try byName.string("model_type") == "albert")
        // --model-type wins over what the file looks like.
        let asked = try ConfigLocator.translate(ConfigReader(origin: "/x/bert_config.json", fields: albertKeys), modelType: "bert")
        #expect(try asked.string("model_type") == "bert")
        let bert = try ConfigLocator.translate(ConfigReader(origin: "/x/bert_config.json", fields: [
            "hidden_size": 8, "num_hidden_layers": 2, "type_vocab_size": 2]), modelType: "albert")
        #expect(try bert.string("model_type") == "albert")
    }

    @Test func aContradictingModelTypeIsRefused() {
        #expect(throws: ExportError.self) {
            try ConfigLocator.translate(ConfigReader(origin: "config.json", fields: ["model_type": "bert"]), modelType: "gpt2")
        }
        #expect(throws: ExportError.self) { try ConfigLocator.translate(ConfigReader(origin: "c.json", fields: ["x": 1]), modelType: nil) }
    }
}

@Suite struct WriterTests {
    @Test func safetensorsWriterRoundTripsThroughTheReader() throws {
        let folder = NSTemporaryDirectory() + "writer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let a = TensorData.float32([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let tensors: [String: TensorData] = ["a\"quoted\"": a, "b.t": try a.transposed(), "c": .int64([7], shape: [])]
        try SafetensorsWriter.write(tensors, to: folder + "/model.safetensors")
        let back = try SafetensorsReader.read(file: folder + "/model.safetensors")
        #expect(Set(back.keys) == Set(tensors.keys))
        for (name, t) in tensors {
            #expect(back[name]?.shape == t.shape)
            #expect(try back[name]?.materialize() == t.materialize())
        }
    }

    @Test func pickleOfAStateDictUsesOnlyTheAllowedGlobals() {
        let bytes = PickleWriter.stateDict([.init(name: "w", storageClass: "FloatStorage", storageKey: "0", elements: 6, shape: [2, 3])])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("collections\nOrderedDict\n"))
        #expect(text.contains("torch._utils\n_rebuild_tensor_v2\n"))
        #expect(bytes.last == 0x2e)
        #expect(PickleWriter.contiguousStrides([2, 3, 4]) == [12, 4, 1])
    }
}
