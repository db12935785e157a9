import Foundation
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// Writes small checkpoints for tests: a config.json and a model.safetensors of deterministic
/// float32 values, with transformers' names.
struct TinyCheckpoint {
    let folder: String

    init(config: [String: Any], tensors: [(String, [Int])], skipping: Set<String> = []) throws {
        folder = NSTemporaryDirectory() + "tiny-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try json.write(to: URL(fileURLWithPath: folder + "/config.json"))
        try Self.writeSafetensors(folder + "/model.safetensors", tensors.filter { !skipping.contains($0.0) })
    }

    static func writeSafetensors(_ path: String, _ tensors: [(String, [Int])]) throws {
        var header: [String] = []
        var data = Data()
        var seed: UInt32 = 1
        for (name, shape) in tensors {
            let count = shape.reduce(1, *)
            let begin = data.count
            for _ in 0..<count {
                seed = seed &* 1_664_525 &+ 1_013_904_223
                let value = (Float(seed >> 8) / Float(1 << 24) - 0.5) * 0.4
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        var headerBytes = Data(("{" + header.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        file.append(data)
        try file.write(to: URL(fileURLWithPath: path))
    }

    /// A 2-layer BERT for sequence classification (hidden 12, 3 heads, 5 labels).
    static func bert(skipping: Set<String> = [], config overrides: [String: Any] = [:]) throws -> TinyCheckpoint {
        let h = 12, inter = 20, vocab = 30
        var config: [String: Any] = ["model_type": "bert", "vocab_size": vocab, "hidden_size": h, "num_hidden_layers": 2,
                                     "num_attention_heads": 3, "intermediate_size": inter, "max_position_embeddings": 16,
                                     "num_labels": 5]
        for (k, v) in overrides { config[k] = v }
        var tensors: [(String, [Int])] = [
            ("bert.embeddings.word_embeddings.weight", [vocab, h]), ("bert.embeddings.position_embeddings.weight", [16, h]),
            ("bert.embeddings.token_type_embeddings.weight", [2, h]),
            ("bert.embeddings.LayerNorm.weight", [h]), ("bert.embeddings.LayerNorm.bias", [h]),
        ]
        for i in 0..<2 {
            let p = "bert.encoder.layer.\(i)."
            for m in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                tensors += [(p + m + ".weight", [h, h]), (p + m + ".bias", [h])]
            }
            for m in ["attention.output.LayerNorm", "output.LayerNorm"] { tensors += [(p + m + ".weight", [h]), (p + m + ".bias", [h])] }
            tensors += [(p + "intermediate.dense.weight", [inter, h]), (p + "intermediate.dense.bias", [inter]),
                        (p + "output.dense.weight", [h, inter]), (p + "output.dense.bias", [h])]
        }
        tensors += [("bert.pooler.dense.weight", [h, h]), ("bert.pooler.dense.bias", [h]),
                    ("classifier.weight", [5, h]), ("classifier.bias", [5])]
        return try TinyCheckpoint(config: config, tensors: tensors, skipping: skipping)
    }

    /// A 2-layer GPT-2 language model (n_embd 12, 3 heads), tied head, as `GPT2LMHeadModel` saves it.
    static func gpt2() throws -> TinyCheckpoint {
        let e = 12, vocab = 40
        let config: [String: Any] = ["model_type": "gpt2", "vocab_size": vocab, "n_embd": e, "n_layer": 2, "n_head": 3, "n_positions": 32]
        var tensors: [(String, [Int])] = [("transformer.wte.weight", [vocab, e]), ("transformer.wpe.weight", [32, e])]
        for i in 0..<2 {
            let p = "transformer.h.\(i)."
            tensors += [(p + "ln_1.weight", [e]), (p + "ln_1.bias", [e]), (p + "ln_2.weight", [e]), (p + "ln_2.bias", [e]),
                        (p + "attn.c_attn.weight", [e, 3 * e]), (p + "attn.c_attn.bias", [3 * e]),
                        (p + "attn.c_proj.weight", [e, e]), (p + "attn.c_proj.bias", [e]),
                        (p + "mlp.c_fc.weight", [e, 4 * e]), (p + "mlp.c_fc.bias", [4 * e]),
                        (p + "mlp.c_proj.weight", [4 * e, e]), (p + "mlp.c_proj.bias", [e])]
        }
        tensors += [("transformer.ln_f.weight", [e]), ("transformer.ln_f.bias", [e])]
        return try TinyCheckpoint(config: config, tensors: tensors)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// This checkpoint's `text-generation` graph as `entry` builds it, through the passes and
    /// lowered at opset 17, and the bytes of the checkpoint's weights: what a test of how
    /// tensors are stored compares.
    func loweredTextGeneration(_ entry: ArchitectureEntry) throws -> (spec: ONNXModelSpec, weightBytes: Int) {
        let store = try SafetensorsReader.open(folder: folder)
        let model = try entry.make(try ConfigReader(file: folder + "/config.json"), store)
        let graph = try model.graph(for: .textGeneration, name: "t")
        _ = try PassPipeline.run(graph)
        return (try ModelLowering.lower(graph, opset: 17), store.tensors.values.reduce(0) { $0 + $1.byteCount })
    }
}
