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
