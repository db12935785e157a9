import Foundation
import Testing
@testable import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

extension TinyCheckpoint {
    /// A T5 v1.1-style checkpoint: 2 encoder and 3 decoder layers, d_model 8, 2 heads of d_kv 6
    /// (12 ≠ 8), gated GELU, untied head.
    static func t5(skipping: Set<String> = [], config overrides: [String: Any] = [:]) throws -> TinyCheckpoint {
        let d = 8, inner = 12, ff = 10, vocab = 20, buckets = 8
        var config: [String: Any] = ["model_type": "t5", "vocab_size": vocab, "d_model": d, "d_kv": 6, "num_heads": 2, "d_ff": ff,
                                     "num_layers": 2, "num_decoder_layers": 3, "relative_attention_num_buckets": buckets,
                                     "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false]
        for (k, v) in overrides { config[k] = v }
        var tensors: [(String, [Int])] = [("shared.weight", [vocab, d]), ("lm_head.weight", [vocab, d]),
                                          ("encoder.final_layer_norm.weight", [d]), ("decoder.final_layer_norm.weight", [d])]
        func attention(_ p: String) -> [(String, [Int])] {
            [(p + ".q.weight", [inner, d]), (p + ".k.weight", [inner, d]), (p + ".v.weight", [inner, d]), (p + ".o.weight", [d, inner])]
        }
        func feedForward(_ p: String) -> [(String, [Int])] {
            [(p + ".DenseReluDense.wi_0.weight", [ff, d]), (p + ".DenseReluDense.wi_1.weight", [ff, d]),
             (p + ".DenseReluDense.wo.weight", [d, ff]), (p + ".layer_norm.weight", [d])]
        }
        for (stack, layers) in [("encoder", 2), ("decoder", 3)] {
            for i in 0..<layers {
                let p = "\(stack).block.\(i).layer."
                tensors += attention(p + "0.SelfAttention") + [(p + "0.layer_norm.weight", [d])]
                if i == 0 { tensors.append((p + "0.SelfAttention.relative_attention_bias.weight", [buckets, 2])) }
                if stack == "decoder" {
                    tensors += attention(p + "1.EncDecAttention") + [(p + "1.layer_norm.weight", [d])] + feedForward(p + "2")
                } else {
                    tensors += feedForward(p + "1")
                }
            }
        }
        return try TinyCheckpoint(config: config, tensors: tensors, skipping: skipping)
    }
}

@Suite struct Seq2SeqExportTests {
    func export(_ ckpt: TinyCheckpoint, task: String, opset: Int = 17) throws -> (ExportReport, String) {
        let out = NSTemporaryDirectory() + "seq2seq-\(UUID().uuidString)"
        var options = ExportOptions(modelFolder: ckpt.folder, task: task, outputFolder: out)
        options.opset = opset
        return (try Exporter.export(options), out)
    }

    @Test(arguments: [11, 17, 23])
    func withPastWritesOptimumsFourFilesSharingOneDataFile(opset: Int) throws {
        let ckpt = try TinyCheckpoint.t5()
        defer { ckpt.remove() }
        let (report, out) = try export(ckpt, task: "text2text-generation-with-past", opset: opset)
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(report.files.map { ($0.path as NSString).lastPathComponent } ==
                ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx", "decoder_model_merged.onnx"])
        #expect(report.dataPath == out + "/model.onnx_data")
        let encoderLength = Dim.symbol("encoder_sequence_length"), decoderLength = Dim.symbol("decoder_sequence_length")
        let past = Dim.symbol("past_decoder_sequence_length")
        let withPast = report.files[2], merged = report.files[3]
        #expect(withPast.inputs.map(\.name).prefix(4) == ["encoder_attention_mask", "input_ids", "past_key_values.0.decoder.key",
                                                          "past_key_values.0.decoder.value"])
        #expect(withPast.inputs[2].type.shape == [.batchSize, 2, past, 6])
        #expect(withPast.outputs.count == 1 + 3 * 2)
        #expect(withPast.outputs[1].type.shape == [.batchSize, 2, past + decoderLength, 6])
        #expect(report.files[1].outputs.map(\.name).prefix(5) == ["logits", "present.0.decoder.key", "present.0.decoder.value",
                                                                  "present.0.encoder.key", "present.0.encoder.value"])
        #expect(report.files[1].outputs[3].type.shape == [.batchSize, 2, encoderLength, 6])
        #expect(merged.inputs.last?.name == "use_cache_branch")
        #expect(merged.outputs.map(\.name) == report.files[1].outputs.map(\.name))
        // The weights lie once in the data file: the checkpoint's tensors of 1 KiB or more and the
        // two relative-position bucket tables (int64, distances −128...128), each at a 4096-aligned
        // offset, and not once per decoder file.
        let checkpoint = try SafetensorsReader.open(folder: ckpt.folder).tensors.values.map(\.byteCount)
        let external = checkpoint.filter { $0 >= 1024 } + [257 * 8, 257 * 8]
        #expect(report.dataBytes >= external.reduce(0, +) && report.dataBytes <= external.reduce(0, +) + 4096 * external.count)
    }

    /// Re-exporting into the same folder with --force leaves no model file of the earlier layout:
    /// a stale merged decoder would be loaded first and read the new data file at old offsets.
    @Test func forcedReexportRemovesTheEarlierLayoutsFiles() throws {
        let ckpt = try TinyCheckpoint.t5()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "seq2seq-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        var options = ExportOptions(modelFolder: ckpt.folder, task: "text2text-generation-with-past", outputFolder: out)
        _ = try Exporter.export(options)
        options.task = "text2text-generation"
        options.force = true
        _ = try Exporter.export(options)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: out)).filter { $0.hasSuffix(".onnx") }
        #expect(left == ["encoder_model.onnx", "decoder_model.onnx"])
        options.task = "feature-extraction"
        _ = try Exporter.export(options)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)).filter { $0.hasSuffix(".onnx") } == ["model.onnx"])
    }

    @Test func featureExtractionIsTheEncoderAlone() throws {
        let ckpt = try TinyCheckpoint.t5()
        defer { ckpt.remove() }
        let (report, out) = try export(ckpt, task: "feature-extraction")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(report.files.count == 1 && report.modelPath == out + "/model.onnx")
        #expect(report.outputs.map(\.name) == ["last_hidden_state"])
    }

    @Test func pipelineNamesAreAliases() throws {
        #expect(try Task(name: "translation") == .text2textGeneration)
        #expect(try Task(name: "summarization") == .text2textGeneration)
        #expect(try Task(name: "translation_en_to_fr") == .text2textGeneration)
        #expect(try Task(name: "seq2seq-lm-with-past") == .text2textGenerationWithPast)
        #expect(throws: ExportError.self) { try Task(name: "translation_en") }
    }

    @Test func encoderOnlyCheckpointsExportFeaturesButNotGeneration() throws {
        let full = try TinyCheckpoint.t5()
        let names = try SafetensorsReader.open(folder: full.folder).tensors.keys
        full.remove()
        let ckpt = try TinyCheckpoint.t5(skipping: Set(names.filter { $0.hasPrefix("decoder.") || $0 == "lm_head.weight" }))
        defer { ckpt.remove() }
        let (_, out) = try export(ckpt, task: "feature-extraction")
        try? FileManager.default.removeItem(atPath: out)
        let error = #expect(throws: ExportError.self) { try export(ckpt, task: "text2text-generation") }
        #expect(error?.message.contains("decoder.block.0.layer.0.SelfAttention.q.weight") == true)
    }

    /// Whether the decoder scales its output by d_model^-0.5 before the head, per config dialect.
    @Test func headScalingFollowsTheConfigsTransformersVersion() throws {
        func scales(_ config: [String: Any], skipping: Set<String> = []) throws -> Bool {
            let ckpt = try TinyCheckpoint.t5(skipping: skipping, config: config)
            defer { ckpt.remove() }
            let model = try T5.entry.make(try ConfigReader(file: ckpt.folder + "/config.json"), try SafetensorsReader.open(folder: ckpt.folder))
            let parts = try model.parts(for: .text2textGeneration, name: "t")
            return parts[1].graphs[0].nodes.contains { $0.name.contains("ScaleDecoderOutput") }
        }
        // transformers 4: tie_word_embeddings decides (v1.0 ties and scales, v1.1 and mT5 do neither).
        #expect(try scales(["tie_word_embeddings": true], skipping: ["lm_head.weight"]))
        #expect(try scales(["tie_word_embeddings": false]) == false)
        #expect(try scales(["model_type": "mt5", "tie_word_embeddings": false]) == false)
        // transformers 5: scale_decoder_outputs says it; mT5 never scales (its configs always tie).
        #expect(try scales(["scale_decoder_outputs": true, "tie_word_embeddings": true], skipping: ["lm_head.weight"]))
        #expect(try scales(["scale_decoder_outputs": false, "tie_word_embeddings": true]) == false)
        #expect(try scales(["model_type": "mt5", "tie_word_embeddings": true, "transformers_version": "5.25.0"]) == false)
        #expect(try scales(["model_type": "mt5", "tie_word_embeddings": true, "transformers_version": "4.57.6"], skipping: ["lm_head.weight"]))
    }

    /// `dense_act_fn` / `is_gated_act` in the file win over `feed_forward_proj`, as transformers reads them.
    @Test func explicitActivationFieldsWin() throws {
        let ckpt = try TinyCheckpoint.t5(config: ["feed_forward_proj": "relu", "dense_act_fn": "gelu_new", "is_gated_act": true])
        defer { ckpt.remove() }
        let model = try T5.entry.make(try ConfigReader(file: ckpt.folder + "/config.json"), try SafetensorsReader.open(folder: ckpt.folder))
        let encoder = try model.graph(for: .featureExtraction, name: "t")
        #expect(encoder.nodes.contains { $0.op == .gelu(.tanh) })
        #expect(encoder.nodes.contains { $0.name.contains("wi_1") })
        #expect(!encoder.nodes.contains { $0.op == .relu })
    }

    @Test func badConfigsAreRefused() throws {
        for (key, value, needle) in [("feed_forward_proj", "gated-gelu-new" as Any, "feed_forward_proj"),
                                     ("feed_forward_proj", "gated-swoosh" as Any, "feed_forward_proj"),
                                     ("d_kv", 5 as Any, "d_kv"),
                                     ("num_decoder_layers", 4 as Any, "num_decoder_layers")] {
            let ckpt = try TinyCheckpoint.t5(config: [key: value])
            defer { ckpt.remove() }
            let error = #expect(throws: ExportError.self) { try export(ckpt, task: "text2text-generation") }
            #expect(error?.message.contains(needle) == true, "\(key)=\(value): \(error?.message ?? "")")
        }
        let unknown = try #require(#expect(throws: ExportError.self) { try Task(name: "text3text-generation") })
        #expect(unknown.message.contains("text2text-generation"))
    }
}
