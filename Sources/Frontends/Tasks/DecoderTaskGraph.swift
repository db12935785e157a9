import ONNXExportIR

/// Builds the graph of a causal language model for one task, with optimum's KV cache contract:
/// inputs `input_ids`, `attention_mask` (covering past and new tokens), `position_ids` (not for
/// classification, whose positions count from 0 as optimum's exports do) and, with
/// a cache, `past_key_values.N.key|value` `[batch_size, kv_heads, past_sequence_length, head_dim]`;
/// outputs `logits` and `present.N.key|value` over `past_sequence_length + sequence_length`.
/// One graph serves the first step (a past of length 0) and every later one.
public enum DecoderTaskGraph {
    /// Whether a graph output is a cache the caller feeds back as an input (`present.N.key`), so
    /// it must keep the type its input has.
    public static func isFedBack(_ outputName: String) -> Bool { outputName.hasPrefix("present.") }

    public static func build(_ model: DecoderModel, task: Task, name: String, target: ExportTarget = .portable) throws -> Graph {
        let b = GraphBuilder(name: name)
        let withPast = task == .textGenerationWithPast
        let total: Dim = withPast ? .pastSequenceLength + .sequenceLength : .sequenceLength
        let ids = b.input("input_ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let mask = b.input("attention_mask", TensorType(.int64, [.batchSize, total]))
        // optimum's classification exports take no position_ids: positions are 0..S-1, as
        // transformers numbers them when none are passed.
        let classifies = task == .textClassification || task == .tokenClassification
        // Expanded to [B, S]: ONNX RotaryEmbedding does not broadcast its tables over the batch.
        let positions = classifies
            ? try b.node(.expand, try b.unsqueeze(try b.node(.range, b.int64s([0], scalar: true), try b.scalarDimension(ids, axis: 1),
                                                             b.int64s([1], scalar: true)), [0]),
                         try b.node(.shape, ids), name: "PositionIDs")
            : b.input("position_ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        var pasts: [KeyValue]? = nil
        if withPast {
            let cacheType = TensorType(.float32, [.batchSize, .fixed(model.keyValueHeads), .pastSequenceLength, .fixed(model.headSize)])
            pasts = (0..<model.layerCount).map { i in
                KeyValue(key: b.input("past_key_values.\(i).key", cacheType), value: b.input("past_key_values.\(i).value", cacheType))
            }
        }
        // Full causal: a model with sliding-window layers builds their mask itself (Qwen mixes both).
        let causal = try b.causalAttentionMask(attentionMask: mask, inputIDs: ids)
        let inputs = DecoderInputs(inputIDs: ids, attentionMask: mask, positionIDs: positions, causalMask: causal, pastKeyValues: pasts,
                                   target: target)
        let decoded = try model.decode(inputs, b)

        switch task {
        case .featureExtraction:
            try EncoderTaskGraph.declare(decoded.hidden, "last_hidden_state", [.batchSize, .sequenceLength], b)
        case .textGeneration, .textGenerationWithPast:
            let logits = try model.languageModelHead(decoded.hidden, b)
            try EncoderTaskGraph.declare(logits, "logits", [.batchSize, .sequenceLength], b)
            if withPast {
                let presentType = TensorType(.float32, [.batchSize, .fixed(model.keyValueHeads), total, .fixed(model.headSize)])
                for (i, kv) in decoded.presents.enumerated() {
                    try b.output(kv.key, name: "present.\(i).key", declared: presentType)
                    try b.output(kv.value, name: "present.\(i).value", declared: presentType)
                }
            }
        case .tokenClassification:
            try EncoderTaskGraph.declare(try model.scoreHead(task, hidden: decoded.hidden, b), "logits", [.batchSize, .sequenceLength], b)
        case .textClassification:
            let scores = try model.scoreHead(task, hidden: decoded.hidden, b)
            let pooled = try b.scope("pool_last_token") { try b.lastNonPaddingToken(scores, inputIDs: ids, padTokenID: model.padTokenID) }
            try EncoderTaskGraph.declare(pooled, "logits", [.batchSize], b)
        default:
            throw ExportError("task \(task.rawValue) is not available for decoder models")
        }
        return b.graph
    }
}

extension GraphBuilder {
    /// `x[b, last(b)]` where `last(b)` is the rightmost position whose token is not `padTokenID`
    /// (transformers' `(arange(S) * (input_ids != pad)).argmax(-1)`, so left and right padding
    /// both work); without a pad token, the last position. Selected with a one-hot MatMul.
    public func lastNonPaddingToken(_ x: Value, inputIDs: Value, padTokenID: Int?) throws -> Value {
        let length = try scalarDimension(inputIDs, axis: 1)
        let positions = try node(.range, int64s([0], scalar: true), length, int64s([1], scalar: true))
        let last: Value
        if let pad = padTokenID {
            let notPad = try cast(try node(.not, try node(.equal, inputIDs, int64s([pad], scalar: true))), to: .int64)
            last = try node(.argMax(axis: -1, keepDims: true), try mul(positions, notPad))
        } else {
            last = try unsqueeze(try sub(length, int64s([1], scalar: true)), [0])
        }
        let oneHot = try cast(try node(.equal, try unsqueeze(positions, [0]), last), to: .float32)
        return try squeeze(try matMul(try unsqueeze(oneHot, [1]), x), [1])
    }
}
