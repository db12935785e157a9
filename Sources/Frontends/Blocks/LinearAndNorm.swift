import ONNXExportIR

extension GraphBuilder {
    /// Weights up to this size are transposed while they stream, whole, on the prefetch thread;
    /// larger ones (LLaMA's untied `lm_head`, big models' MLPs) are stored as they are and
    /// multiplied transposed: a banded transpose re-reads its source row by row and ran at a
    /// quarter of the speed.
    public static let streamedTransposeLimit = 64 << 20

    /// `torch.nn.Linear` (weight `[out, in]`, optional bias): MatMul with the weight transposed
    /// while it streams to the output, then Add. With `asStored` (or past
    /// `streamedTransposeLimit`) the weight is written as it is and multiplied transposed
    /// (`Gemm(transB)`): the export is then a file copy. Run inside the layer's scope.
    public func linear(_ x: Value, _ w: Weights, bias: Bool = true, asStored: Bool = false) throws -> Value {
        let product = try project(x, try w.tensor("weight", rank: 2), name: w.fullName("weight"), asStored: asStored)
        guard bias, w.has("bias") else { return product }
        return try add(product, try w.value("bias", rank: 1, in: self))
    }

    /// `x · Wᵀ` for a `[out, in]` weight (`linear` without its bias), stored under `name` by the
    /// same rule: transposed while it streams, or as it is past `streamedTransposeLimit`. For a
    /// part of a fused matrix (`weight.rows(...)`).
    public func project(_ x: Value, _ weight: TensorData, name: String, asStored: Bool = false) throws -> Value {
        asStored || weight.byteCount > Self.streamedTransposeLimit
            ? try matMulTransposed(x, self.weight(weight, name: name))
            : try matMul(x, self.weight(try weight.transposed(), name: name))
    }

    /// A projection by a matrix also used elsewhere untransposed (a tied embedding `[vocab, hidden]`):
    /// multiplied transposed, so the tensor is stored once and never transposed.
    public func tiedProjection(_ x: Value, table: Value) throws -> Value {
        try matMulTransposed(x, table)
    }

    /// `torch.nn.LayerNorm` over the last axis. Accepts the TF-era `gamma`/`beta` names too.
    public func layerNorm(_ x: Value, _ w: Weights, epsilon: Double) throws -> Value {
        let scale = try w.value(w.has("weight") || !w.has("gamma") ? "weight" : "gamma", rank: 1, in: self)
        let biasName = w.has("bias") || !w.has("beta") ? "bias" : "beta"
        let bias = w.has(biasName) ? try w.value(biasName, rank: 1, in: self) : nil
        return try node(.layerNorm(epsilon: Float(epsilon)), x, scale, bias, name: "LayerNorm")
    }
}
