import Foundation
import Testing
@testable import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// Transformer-XL through the whole exporter: the memory contract on the written model, tied
/// softmax tensors stored once, and float16 memories fed back in float16.
@Suite struct TransfoXLExportTests {
    /// A 2-layer `TransfoXLLMHeadModel`: vocab 12 in clusters of 4, 4, 4 with div_val 2, d_model 8,
    /// 2 heads of 4, mem_len 3, tied tables and tail projections (absent, as save_pretrained leaves them).
    static func checkpoint() throws -> TinyCheckpoint {
        let config: [String: Any] = ["model_type": "transfo-xl", "vocab_size": 12, "cutoffs": [4, 8], "div_val": 2, "d_model": 8,
                                     "d_embed": 8, "n_head": 2, "d_head": 4, "d_inner": 16, "n_layer": 2, "mem_len": 3,
                                     "clamp_len": 2, "same_length": true, "tie_projs": [false, true, true]]
        var tensors: [(String, [Int])] = []
        for (i, width) in [8, 4, 2].enumerated() {
            tensors += [("transformer.word_emb.emb_layers.\(i).weight", [4, width]), ("transformer.word_emb.emb_projs.\(i)", [8, width]),
                        ("crit.out_layers.\(i).bias", [4])]
        }
        tensors += [("crit.out_projs.0", [8, 8]), ("crit.cluster_weight", [2, 8]), ("crit.cluster_bias", [2]), ("transformer.pos_emb.inv_freq", [4])]
        for i in 0..<2 {
            let p = "transformer.layers.\(i)."
            tensors += [(p + "dec_attn.qkv_net.weight", [24, 8]), (p + "dec_attn.r_net.weight", [8, 8]), (p + "dec_attn.o_net.weight", [8, 8]),
                        (p + "dec_attn.r_w_bias", [2, 4]), (p + "dec_attn.r_r_bias", [2, 4]),
                        (p + "dec_attn.layer_norm.weight", [8]), (p + "dec_attn.layer_norm.bias", [8]),
                        (p + "pos_ff.CoreNet.0.weight", [16, 8]), (p + "pos_ff.CoreNet.0.bias", [16]),
                        (p + "pos_ff.CoreNet.3.weight", [8, 16]), (p + "pos_ff.CoreNet.3.bias", [8]),
                        (p + "pos_ff.layer_norm.weight", [8]), (p + "pos_ff.layer_norm.bias", [8])]
        }
        return try TinyCheckpoint(config: config, tensors: tensors)
    }

    func export(_ task: String, dtype: String = "fp32", opset: Int = 17) throws -> (ExportReport, String) {
        let ckpt = try Self.checkpoint()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "txl-\(UUID().uuidString)"
        var options = ExportOptions(modelFolder: ckpt.folder, task: task, outputFolder: out)
        options.opset = opset
        options.precision = try ExportPrecision(name: dtype)
        return (try Exporter.export(options), out)
    }

    @Test(arguments: [11, 17, 23])
    func withPastDeclaresTheMemoryAxes(opset: Int) throws {
        let (report, out) = try export("text-generation-with-past", opset: opset)
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(report.inputs.map(\.name) == ["input_ids", "mems.0", "mems.1"])
        #expect(report.inputs[1].type.shape == [.symbol("memory_length"), .batchSize, 8])
        #expect(report.outputs.map(\.name) == ["logits", "new_mems.0", "new_mems.1"])
        #expect(report.outputs[0].type.shape == [.batchSize, .sequenceLength, 12])
        #expect(report.outputs[2].type == TensorType(.float32, [.symbol("new_memory_length"), .batchSize, 8]))
    }

    @Test func float16MemoriesStayFloat16AndScoresAreWidened() throws {
        let (report, out) = try export("text-generation-with-past", dtype: "fp16")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(report.inputs[1].type.dtype == .float16)
        #expect(report.outputs[0].type.dtype == .float32)
        #expect(report.outputs[1].type.dtype == .float16)
    }

    @Test func tiedTablesAndProjectionsAreStoredOnce() throws {
        let ckpt = try Self.checkpoint()
        defer { ckpt.remove() }
        let (spec, weightBytes) = try ckpt.loweredTextGeneration(TransfoXL.entry)
        for name in ["transformer.word_emb.emb_layers.1.weight", "transformer.word_emb.emb_projs.2"] {
            #expect(spec.graph.initializers.filter { $0.name == name }.count == 1)
        }
        let written = spec.graph.initializers.reduce(0) { $0 + $1.data.byteCount }
        #expect(written <= weightBytes + 4096)
    }
}
