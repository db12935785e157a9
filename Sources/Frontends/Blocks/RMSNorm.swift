import ONNXExportIR

extension GraphBuilder {
    /// transformers' RMSNorm (`LlamaRMSNorm` and kin): `weight · x / √(mean(x²) + ε)`; with
    /// `plusOne` (Gemma) the scale is `1 + weight`.
    public func rmsNorm(_ x: Value, _ w: Weights, epsilon: Double, plusOne: Bool = false) throws -> Value {
        var scale = try w.value("weight", rank: 1, in: self)
        if plusOne { scale = try add(scale, self.scalar(1), name: "OnePlusWeight") }
        return try node(.rmsNorm(epsilon: Float(epsilon)), x, scale, name: "RMSNorm")
    }

    /// `torch.nn.Conv1D` as GPT-2 stores it (weight `[in, out]`, already MatMul's layout) + bias.
    public func conv1D(_ x: Value, _ w: Weights) throws -> Value {
        let product = try matMul(x, try w.value("weight", rank: 2, in: self))
        return try add(product, try w.value("bias", rank: 1, in: self))
    }
}
