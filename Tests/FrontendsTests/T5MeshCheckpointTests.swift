import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Mesh TensorFlow T5 checkpoints (`Tests/Fixtures/t5-mesh`, made by make_t5_fixtures.py with
/// TensorFlow, converted there by transformers 4.57's own script) read as that script reads them,
/// and hand-made stores for the rules.
@Suite struct T5MeshCheckpointTests {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/t5-mesh").path

    /// The keys 4.57's save_pretrained kept, per checkpoint and model type (t5-mesh.json).
    static func savedKeys(_ checkpoint: String, _ modelType: String) throws -> [String] {
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/t5-mesh.json"))) as? [String: Any]
        let conversions = ((meta?["checkpoints"] as? [String: Any])?[checkpoint] as? [String: Any])?["conversions"] as? [String: Any]
        return try #require((conversions?[modelType] as? [String: Any])?["saved_keys"] as? [String])
    }

    @Test(arguments: [("v1_0", "model.ckpt-1000", "t5", "reference"), ("v1_1", "model.ckpt-2000", "t5", "reference"),
                      ("v1_1", "model.ckpt-2000", "mt5", "reference-mt5")])
    func convertsAsTransformersScriptDoes(folder: String, prefix: String, modelType: String, reference: String) throws {
        let store = WeightStore(origin: "ckpt", tensors: try TensorBundleReader.read(prefix: "\(Self.root)/\(folder)/\(prefix)"))
        let config = try T5ConfigFile(path: "\(Self.root)/\(folder)/\(modelType)_config.json", modelType: modelType)
        let checkpoint = try T5MeshCheckpoint(store: store, config: config.config)
        #expect(checkpoint.tensors.keys.sorted() == (try Self.savedKeys(folder, modelType)))
        let saved = try SafetensorsReader.read(file: "\(Self.root)/\(folder)/\(reference)/model.safetensors")
        for (name, tensor) in checkpoint.tensors {
            #expect(tensor.dtype == .float32 && tensor.shape == saved[name]?.shape, "\(name)")
            #expect(try tensor.materialize() == saved[name]?.materialize(), "\(name)")
        }
        #expect(checkpoint.notes.count == 2)
        #expect(checkpoint.notes.contains { $0.hasPrefix("left out") && $0.contains("_slot_vr") })
        #expect(checkpoint.notes.contains("left out training state: global_step"))
        // config.json and generation_config.json: transformers' text without its transformers_version line
        for (written, file) in [(config.configJSON, "config.json"), (config.generationConfigJSON, "generation_config.json")] {
            let saved = try String(contentsOfFile: "\(Self.root)/\(folder)/\(reference)/\(file)", encoding: .utf8)
            let lines = saved.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("\"transformers_version\"") }.joined(separator: "\n")
            #expect(written == lines.replacingOccurrences(of: ",\n}", with: "\n}"), "\(file)")
        }
    }

    func store(_ shapes: [String: [Int]], dtype: DataType = .float32) -> WeightStore {
        WeightStore(origin: "ckpt", tensors: shapes.mapValues { shape in
            TensorData(dtype: dtype, shape: shape, storage: .inline([UInt8](repeating: 0, count: shape.reduce(1, *) * dtype.byteSize)))
        })
    }

    /// A one-layer relu T5 (d_model 4, 2 heads of 3, d_ff 5, vocab 7, 6 buckets) in Mesh TF's names.
    func tinyModel(norm: String = "rms_norm") -> [String: [Int]] {
        var shapes: [String: [Int]] = ["shared/embedding": [7, 4], "encoder/\(norm == "rms_norm" ? "rms_norm" : "final_layer_norm")/scale": [4],
                                       "decoder/\(norm == "rms_norm" ? "rms_norm" : "final_layer_norm")/scale": [4]]
        for (stack, sublayers) in [("encoder", ["SelfAttention", "DenseReluDense"]), ("decoder", ["SelfAttention", "EncDecAttention", "DenseReluDense"])] {
            for (l, kind) in sublayers.enumerated() {
                let prefix = "\(stack)/block_000/layer_00\(l)/"
                shapes[prefix + "\(norm)/scale"] = [4]
                if kind == "DenseReluDense" {
                    shapes[prefix + "DenseReluDense/wi/kernel"] = [4, 5]
                    shapes[prefix + "DenseReluDense/wo/kernel"] = [5, 4]
                } else {
                    for p in ["q", "k", "v"] { shapes[prefix + "\(kind)/\(p)"] = [4, 6] }
                    shapes[prefix + "\(kind)/o"] = [6, 4]
                    if kind == "SelfAttention" { shapes[prefix + "SelfAttention/relative_attention_bias"] = [2, 6] }
                }
            }
        }
        return shapes
    }

    static let tinyConfig = #"{"vocab_size": 7, "d_model": 4, "d_kv": 3, "num_heads": 2, "d_ff": 5, "num_layers": 1, "relative_attention_num_buckets": 6}"#

    func convert(_ shapes: [String: [Int]], config: String = tinyConfig, dtype: DataType = .float32) throws -> T5MeshCheckpoint {
        let file = try T5ConfigFile(data: Data(config.utf8), origin: "t5_config.json", modelType: "t5")
        return try T5MeshCheckpoint(store: store(shapes, dtype: dtype), config: file.config)
    }

    @Test func namesLoseTheirZerosAndKernelsAreTransposed() throws {
        let converted = try convert(tinyModel())
        #expect(converted.tensors.count == 26)
        #expect(converted.tensors["encoder.block.0.layer.0.SelfAttention.q.weight"]?.shape == [6, 4])
        #expect(converted.tensors["encoder.block.0.layer.0.SelfAttention.o.weight"]?.shape == [4, 6])
        #expect(converted.tensors["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]?.shape == [6, 2])
        #expect(converted.tensors["decoder.block.0.layer.2.DenseReluDense.wi.weight"]?.shape == [5, 4])
        #expect(converted.tensors["decoder.final_layer_norm.weight"]?.shape == [4])
        #expect(converted.tensors["shared.weight"]?.shape == [7, 4])
        #expect(converted.tensors["lm_head.weight"] == nil)
        // The 2019 release's legacy names map to the same weights.
        #expect(Set(try convert(tinyModel(norm: "layer_norm")).tensors.keys) == Set(converted.tensors.keys))
        // Half-precision variables become float32, as the loader's astype(np.float32).
        #expect(try convert(tinyModel(), dtype: .bfloat16).tensors.values.allSatisfy { $0.dtype == .float32 })
    }

    @Test func optimizerStateIsLeftOutAndReported() throws {
        var shapes = tinyModel()
        shapes["global_step"] = []
        shapes["encoder/block_000/layer_000/SelfAttention/q_slot_vr"] = [4]
        shapes["shared/embedding_slot_vc"] = [4]
        shapes["encoder/rms_norm/scale_slot_v"] = [4]
        shapes["encoder/block_000/layer_000/SelfAttention/q/adam_m"] = [4, 6]
        let converted = try convert(shapes)
        #expect(converted.tensors.count == 26)
        #expect(converted.notes == ["left out 3 optimizer slot variables (Adafactor's *_slot_vr, *_slot_vc, *_slot_v)",
                                    "left out training state: encoder/block_000/layer_000/SelfAttention/q/adam_m, global_step"])
    }

    @Test func whatTheModelCannotHoldIsRefusedByName() {
        func refused(_ shapes: [String: [Int]], config: String = T5MeshCheckpointTests.tinyConfig, dtype: DataType = .float32, _ fragments: String...) {
            #expect { try convert(shapes, config: config, dtype: dtype) } throws: { error in
                let message = "\(error)"
                return fragments.allSatisfy { message.contains($0) }
            }
        }
        var extra = tinyModel()
        extra["encoder/block_000/layer_000/SelfAttention/bias"] = [6]
        refused(extra, "'encoder/block_000/layer_000/SelfAttention/bias' is not a weight of Mesh TensorFlow's T5 layout")
        var secondTable = tinyModel()
        secondTable["encoder/block_000/layer_001/EncDecAttention/q"] = [4, 6]
        refused(secondTable, "no such sublayer in a T5 block")
        var crossBias = tinyModel()
        crossBias["decoder/block_000/layer_001/EncDecAttention/relative_attention_bias"] = [2, 6]
        refused(crossBias, "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", "first block's SelfAttention only")
        var logits = tinyModel()
        logits["decoder/logits/kernel"] = [4, 7]
        refused(logits, "'decoder/logits/kernel' would be lm_head.weight", "\"tie_word_embeddings\": false")
        var missing = tinyModel()
        missing["decoder/block_000/layer_001/EncDecAttention/k"] = nil
        refused(missing, "'decoder/block_000/layer_001/EncDecAttention/k' is missing", "decoder.block.0.layer.1.EncDecAttention.k.weight")
        var misshapen = tinyModel()
        misshapen["encoder/block_000/layer_001/DenseReluDense/wo/kernel"] = [4, 5]
        refused(misshapen, "'encoder/block_000/layer_001/DenseReluDense/wo/kernel' has shape [4, 5]", "gives [5, 4]", "d_ff 5")
        refused(tinyModel(), dtype: .int32, "holds int32 values")
        refused(tinyModel(), config: Self.tinyConfig.replacingOccurrences(of: "\"num_layers\": 1", with: "\"num_layers\": 1000000000"),
                "'encoder/block_001/layer_000/rms_norm/scale' (and more) is missing")
        refused(tinyModel(), config: Self.tinyConfig.replacingOccurrences(of: "}", with: ", \"feed_forward_proj\": \"gated-gelu\"}"),
                "feed_forward_proj \"gated-gelu\" is gated")
    }

    @Test func configIsWrittenAsSavePretrainedWritesIt() throws {
        let text = #"""
            {"d_model": 4, "num_layers": 2, "num_decoder_layers": null, "layer_norm_epsilon": 1E-6, "dropout_rate": 0.10,
             "initializer_factor": 1, "pad_token_id": -0, "max_length": 200, "num_beams": 1, "torch_dtype": "bfloat16",
             "transformers_version": "4.0.0", "tie_word_embeddings": 1, "is_decoder": false, "model_type": "t5",
             "task_specific_params": {"b": 1, "a": 2.50}, "n_positions": 512, "d_kv": 2, "dense_act_fn": "gelu_new"}
            """#
        let file = try T5ConfigFile(data: Data(text.utf8), origin: "c.json", modelType: "t5")
        #expect(file.configJSON == """
            {
              "architectures": [
                "T5ForConditionalGeneration"
              ],
              "classifier_dropout": 0.0,
              "d_ff": 2048,
              "d_kv": 2,
              "d_model": 4,
              "dense_act_fn": "gelu_new",
              "dropout_rate": 0.1,
              "dtype": "float32",
              "eos_token_id": 1,
              "feed_forward_proj": "relu",
              "initializer_factor": 1,
              "is_encoder_decoder": true,
              "is_gated_act": false,
              "layer_norm_epsilon": 1e-06,
              "max_length": null,
              "model_type": "t5",
              "n_positions": 512,
              "num_decoder_layers": 2,
              "num_heads": 8,
              "num_layers": 2,
              "pad_token_id": 0,
              "relative_attention_max_distance": 128,
              "relative_attention_num_buckets": 32,
              "task_specific_params": {
                "a": 2.5,
                "b": 1
              },
              "use_cache": true,
              "vocab_size": 32128
            }

            """)
        #expect(file.generationConfigJSON == """
            {
              "_from_model_config": true,
              "eos_token_id": 1,
              "max_length": 200,
              "pad_token_id": 0
            }

            """)
        let mt5 = try T5ConfigFile(data: Data(#"{"d_model": 4}"#.utf8), origin: "c.json", modelType: "mt5")
        #expect(try mt5.config.bool("tie_word_embeddings") == false && mt5.config.string("tokenizer_class") == "T5Tokenizer")
        #expect(try mt5.config.string("dense_act_fn") == "gelu_new" && mt5.config.bool("is_gated_act"))
        #expect(try mt5.config.stringsArray("architectures") == ["MT5ForConditionalGeneration"])
    }

    @Test func configsTransformersRefusesAreRefused() {
        for (text, fragment) in [(#"{"model_type": "mt5"}"#, "model_type is \"mt5\" but \"t5\" was asked for"),
                                 (#"{"feed_forward_proj": "gated-gelu-new"}"#, "is not an activation or gated-{activation}"),
                                 (#"{"feed_forward_proj": 3}"#, "'feed_forward_proj' must be a string"),
                                 (#"[1]"#, "expected a JSON object"), (#"{"a": }"#, "not valid JSON")] {
            #expect { try T5ConfigFile(data: Data(text.utf8), origin: "c.json", modelType: "t5") } throws: { error in
                "\(error)".contains(fragment)
            }
        }
    }
}

private extension ConfigReader {
    func stringsArray(_ key: String) throws -> [String]? { try optionalStrings(key) }
}
