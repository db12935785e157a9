import ONNXExportIR

/// What onnxruntime's `GroupQueryAttention` reads besides a layer's projections, made once per
/// graph: each row's last position and the total length (from the attention mask, as
/// onnxruntime-genai's own graphs derive them), and the rotary tables for every position.
public struct GroupQueryAttentionInputs {
    /// int32 `[B]`: tokens in each row (past and new) − 1.
    public var lastIndex: Value
    /// int32 scalar: the attention mask's length.
    public var totalLength: Value
    /// `[positions, D/2]` cos and sin of `position · inverse frequency`, times the rope's
    /// attention factor; nil when the layer rotates nothing.
    public var cos: Value?
    public var sin: Value?
}

extension GraphBuilder {
    /// The per-graph inputs of `groupQueryAttention`. `frequencies` are the rope's inverse
    /// frequencies (full head width), `positions` the rows of the tables (the context length:
    /// onnxruntime reads the row of each position, so positions past it are an error there).
    public func groupQueryAttentionInputs(attentionMask: Value, frequencies: [Float]?, scaling: Float,
                                          positions: Int) throws -> GroupQueryAttentionInputs {
        try scope("attn_mask_reformat") {
            let tokens = try select(try node(.cumSum(axis: 1), attentionMask), axis: 1, index: -1, name: "TokensPerRow")
            let last = try cast(try sub(tokens, int64s([1], scalar: true)), to: .int32, name: "LastIndex")
            let total = try cast(try scalarDimension(attentionMask, axis: 1), to: .int32, name: "TotalLength")
            guard let frequencies else { return GroupQueryAttentionInputs(lastIndex: last, totalLength: total) }
            let tables = try [RotaryCacheTable.Function.cos, .sin].map { function in
                weight(try RotaryCacheTable.tensor(function, frequencies: frequencies, scaling: scaling, positions: positions),
                       name: "\(function.rawValue)_cache")
            }
            return GroupQueryAttentionInputs(lastIndex: last, totalLength: total, cos: tables[0], sin: tables[1])
        }
    }

    /// Causal grouped-query self-attention on projected `q`, `k`, `v` (`[B, S, heads·D]`; or `q`
    /// the packed `[q | k | v]` projection and `k`, `v` nil) in one onnxruntime kernel, rotating
    /// queries and keys when `inputs` carries tables. Returns the context `[B, S, heads·D]` and
    /// the cache `[B, Hkv, P+S, D]`.
    public func groupQueryAttention(q: Value, k: Value?, v: Value?, shape: AttentionShape, past: KeyValue?,
                                    inputs: GroupQueryAttentionInputs) throws -> (context: Value, present: KeyValue) {
        let op = Op.groupQueryAttention(heads: shape.heads, keyValueHeads: shape.keyValueHeads, scale: shape.scale,
                                        rotary: inputs.cos != nil)
        let out = try apply(op, [q, k, v, past?.key, past?.value, inputs.lastIndex, inputs.totalLength, inputs.cos, inputs.sin])
        return (out[0], KeyValue(key: out[1], value: out[2]))
    }
}
