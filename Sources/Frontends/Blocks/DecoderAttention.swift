import ONNXExportIR

/// Head counts and scale of a decoder's self-attention.
public struct AttentionShape: Sendable {
    public var heads: Int
    public var keyValueHeads: Int
    public var headSize: Int
    /// Multiplies Q·Kᵀ (transformers' `scaling`, usually `head_size ** -0.5`).
    public var scale: Float
    public init(heads: Int, keyValueHeads: Int, headSize: Int, scale: Float) {
        self.heads = heads; self.keyValueHeads = keyValueHeads; self.headSize = headSize; self.scale = scale
    }
}

extension GraphBuilder {
    /// `[B, S, heads·D]` → `[B, heads, S, D]`.
    public func splitHeads(_ x: Value, heads: Int, headSize: Int) throws -> Value {
        try transpose(try reshape(x, [0, 0, heads, headSize]), [0, 2, 1, 3])
    }

    /// `[B, heads, S, D]` → `[B, S, heads·D]`.
    public func mergeHeads(_ x: Value) throws -> Value {
        try reshape(try transpose(x, [0, 2, 1, 3]), [0, 0, -1])
    }

    /// Columns `[start, start + count)` of the last axis (one part of a fused projection's output).
    public func columns(_ x: Value, _ start: Int, _ count: Int, name: String) throws -> Value {
        try node(.slice, x, int64s([start]), int64s([start + count]), int64s([-1]), name: name)
    }

    /// Causal self-attention on projected `q`, `k`, `v` (`[B, S, heads·D]`): split heads, optional
    /// per-head norm (Qwen3) and rotary embedding, append the cached past, attend, merge heads.
    /// Returns the context `[B, S, heads·D]` and the keys/values to cache (`present`).
    public func causalSelfAttention(q: Value, k: Value, v: Value, shape: AttentionShape, mask: Value,
                                    rotary: (cos: Value, sin: Value)?, past: KeyValue?,
                                    headNorm: ((Value, String) throws -> Value)? = nil) throws -> (context: Value, present: KeyValue) {
        var query = try splitHeads(q, heads: shape.heads, headSize: shape.headSize)
        var key = try splitHeads(k, heads: shape.keyValueHeads, headSize: shape.headSize)
        var value = try splitHeads(v, heads: shape.keyValueHeads, headSize: shape.headSize)
        if let headNorm {
            query = try headNorm(query, "q_norm")
            key = try headNorm(key, "k_norm")
        }
        if let rotary {
            query = try node(.rotaryEmbedding, query, rotary.cos, rotary.sin, name: "RotaryQuery")
            key = try node(.rotaryEmbedding, key, rotary.cos, rotary.sin, name: "RotaryKey")
        }
        if let past {
            key = try node(.concat(axis: 2), past.key, key, name: "ConcatPastKey")
            value = try node(.concat(axis: 2), past.value, value, name: "ConcatPastValue")
        }
        let context = try node(.headAttention(scale: shape.scale), query, key, value, mask)
        return (try mergeHeads(context), KeyValue(key: key, value: value))
    }
}
