import ONNXExportIR

/// Builds the graph of a segment-recurrent language model (Transformer-XL) for one task. Its
/// inputs are transformers' own: `input_ids` `[batch_size, sequence_length]` and nothing else
/// (no attention mask, no positions: distances are relative and computed in the graph).
///
/// With `text-generation-with-past` the memory is an input and an output per layer N:
/// `mems.N` `[memory_length, batch_size, width]` in, `new_mems.N` `[new_memory_length,
/// batch_size, width]` out, in transformers' `[length, batch, width]` layout, where
/// `new_memory_length` = `min(memory_length + sequence_length, mem_len)`: the layer's input of
/// the memory and the new tokens, truncated to the last `mem_len` positions as `_update_mems`
/// does. A first step feeds what transformers starts from (`init_mems`): zeros of
/// `[mem_len, batch_size, width]`. Without memory inputs (`feature-extraction`,
/// `text-generation`) the graph attends over those `mem_len` zero positions itself, as
/// transformers does when `mems` is not given.
public enum MemoryTaskGraph {
    public static let memoryLengthAxis = Dim.symbol("memory_length")
    public static let newMemoryLengthAxis = Dim.symbol("new_memory_length")

    /// Whether a graph output is a memory the caller feeds back (`new_mems.N`), so a reduced
    /// precision export keeps it in the narrow type its input has.
    public static func isFedBack(_ outputName: String) -> Bool { outputName.hasPrefix("new_mems.") }

    public static func build(_ model: MemoryDecoderModel, task: Task, name: String) throws -> Graph {
        let b = GraphBuilder(name: name)
        let ids = b.input("input_ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let width = model.memoryWidth
        var memories: [Value]? = nil
        if task == .textGenerationWithPast {
            guard model.memoryLength > 0 else {
                throw ExportError("\(task.rawValue) carries the memory, but mem_len is \(model.memoryLength): the model keeps none (export text-generation)")
            }
            let type = TensorType(.float32, [memoryLengthAxis, .batchSize, .fixed(width)])
            memories = try (0..<model.layerCount).map { i in
                let memory = b.input("mems.\(i)", type)
                return try b.scope("mems.\(i)") { try b.transpose(memory, [1, 0, 2], name: "BatchFirst") }
            }
        } else if model.memoryLength > 0 {
            let zeros = try b.scope("init_mems") {
                let shape = try b.node(.concat(axis: 0), try b.dimension(ids, axis: 0), b.int64s([model.memoryLength, width]))
                return try b.node(.expand, b.scalar(0), shape, name: "Zeros")
            }
            memories = Array(repeating: zeros, count: model.layerCount)
        }
        let decoded = try model.decode(ids, memories: memories, b)

        switch task {
        case .featureExtraction:
            try EncoderTaskGraph.declare(decoded.hidden, "last_hidden_state", [.batchSize, .sequenceLength], b)
        case .textGeneration, .textGenerationWithPast:
            let scores = try model.languageModelHead(decoded.hidden, b)
            try EncoderTaskGraph.declare(scores, "logits", [.batchSize, .sequenceLength], b)
            if task == .textGenerationWithPast {
                let type = TensorType(.float32, [newMemoryLengthAxis, .batchSize, .fixed(width)])
                for (i, extended) in decoded.extendedInputs.enumerated() {
                    let kept = try b.scope("new_mems.\(i)") {
                        let last = try b.node(.slice, extended, b.int64s([-model.memoryLength]), b.int64s([Int(Int64.max)]), b.int64s([1]),
                                              name: "KeepLast")
                        return try b.transpose(last, [1, 0, 2], name: "LengthFirst")
                    }
                    try b.output(kept, name: "new_mems.\(i)", declared: type)
                }
            }
        default:
            throw ExportError("task \(task.rawValue) is not available for segment-recurrent models (feature-extraction, text-generation, text-generation-with-past)")
        }
        return b.graph
    }
}
