import ONNXExportIR

/// The attention and MLP of OpenAI's GPT and GPT-2, whose weights are `Conv1D` (`[in, out]`)
/// and whose query, key and value come from one fused `c_attn` projection.
extension GraphBuilder {
    /// `c_attn` → split q, k, v → causal attention (with cache) → `c_proj`.
    public func gptAttention(_ x: Value, _ w: Weights, shape: AttentionShape, mask: Value, past: KeyValue?) throws -> (Value, KeyValue) {
        let width = shape.heads * shape.headSize
        let fused = try scope("c_attn") { try conv1D(x, w.scope("c_attn")) }
        let (context, present) = try causalSelfAttention(
            q: try columns(fused, 0, width, name: "Query"), k: try columns(fused, width, width, name: "Key"),
            v: try columns(fused, 2 * width, width, name: "Value"), shape: shape, mask: mask, rotary: nil, past: past)
        return (try scope("c_proj") { try conv1D(context, w.scope("c_proj")) }, present)
    }

    /// `c_proj(act(c_fc(x)))`.
    public func gptMLP(_ x: Value, _ w: Weights, activation: Activation) throws -> Value {
        let inner = try scope("c_fc") { try self.activation(try conv1D(x, w.scope("c_fc")), activation) }
        return try scope("c_proj") { try conv1D(inner, w.scope("c_proj")) }
    }

    /// Token embeddings plus learned position embeddings looked up by `position_ids`.
    public func tokenAndPositionEmbeddings(_ inputs: DecoderInputs, tokens: Value, positions: Value) throws -> Value {
        let t = try scope("tokens") { try embed(inputs.inputIDs, tokens) }
        let p = try scope("positions") { try embed(inputs.positionIDs, positions) }
        return try add(t, p)
    }
}
