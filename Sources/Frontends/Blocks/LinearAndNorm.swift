import ONNXExportIR

extension GraphBuilder {
    /// `torch.nn.Linear` (weight `[out, in]`, optional bias): MatMul with the weight transposed
    /// while it streams to the output, then Add. Run inside the layer's scope.
    public func linear(_ x: Value, _ w: Weights, bias: Bool = true) throws -> Value {
        let weight = try w.tensor("weight", rank: 2)
        let product = try matMul(x, self.weight(try weight.transposed(), name: w.fullName("weight")))
        guard bias, w.has("bias") else { return product }
        return try add(product, try w.value("bias", rank: 1, in: self))
    }

    /// A projection by a matrix also used elsewhere untransposed (a tied embedding `[vocab, hidden]`):
    /// the transpose is a graph node, so the tensor is stored once.
    public func tiedProjection(_ x: Value, table: Value) throws -> Value {
        try matMul(x, try transpose(table, [1, 0]))
    }

    /// `torch.nn.LayerNorm` over the last axis. Accepts the TF-era `gamma`/`beta` names too.
    public func layerNorm(_ x: Value, _ w: Weights, epsilon: Double) throws -> Value {
        let scale = try w.value(w.has("weight") || !w.has("gamma") ? "weight" : "gamma", rank: 1, in: self)
        let biasName = w.has("bias") || !w.has("beta") ? "bias" : "beta"
        let bias = w.has(biasName) ? try w.value(biasName, rank: 1, in: self) : nil
        return try node(.layerNorm(epsilon: Float(epsilon)), x, scale, bias, name: "LayerNorm")
    }
}
