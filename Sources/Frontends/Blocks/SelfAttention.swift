import ONNXExportIR

/// Weight paths of one post-LayerNorm encoder layer, relative to the layer: BERT's and
/// DistilBERT's modules carry the same arithmetic under different names.
public struct EncoderLayerNames: Sendable {
    public var query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String

    /// `BertLayer` (also RoBERTa, XLM-RoBERTa, ELECTRA).
    public static let bert = EncoderLayerNames(
        query: "attention.self.query", key: "attention.self.key", value: "attention.self.value",
        attentionOutput: "attention.output.dense", attentionNorm: "attention.output.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputNorm: "output.LayerNorm")

    /// `AlbertLayer`: the attention's projections and its LayerNorm sit in one module.
    public static let albert = EncoderLayerNames(
        query: "attention.query", key: "attention.key", value: "attention.value",
        attentionOutput: "attention.dense", attentionNorm: "attention.LayerNorm",
        intermediate: "ffn", output: "ffn_output", outputNorm: "full_layer_layer_norm")

    /// `MPNetLayer`: BERT's sublayers, the projections named `q`, `k`, `v`, `o`.
    public static let mpnet = EncoderLayerNames(
        query: "attention.attn.q", key: "attention.attn.k", value: "attention.attn.v",
        attentionOutput: "attention.attn.o", attentionNorm: "attention.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputNorm: "output.LayerNorm")

    /// XLM's layer `i`, whose modules sit in per-kind lists (`attentions`, `layer_norm1`, `ffns`,
    /// `layer_norm2`) of the base model.
    public static func xlm(layer i: Int) -> EncoderLayerNames {
        EncoderLayerNames(query: "attentions.\(i).q_lin", key: "attentions.\(i).k_lin", value: "attentions.\(i).v_lin",
                          attentionOutput: "attentions.\(i).out_lin", attentionNorm: "layer_norm1.\(i)",
                          intermediate: "ffns.\(i).lin1", output: "ffns.\(i).lin2", outputNorm: "layer_norm2.\(i)")
    }

    /// `DebertaV2Layer`: BERT's names but `query_proj`, `key_proj`, `value_proj`.
    public static let debertaV2 = EncoderLayerNames(
        query: "attention.self.query_proj", key: "attention.self.key_proj", value: "attention.self.value_proj",
        attentionOutput: "attention.output.dense", attentionNorm: "attention.output.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputNorm: "output.LayerNorm")

    /// DistilBERT's `TransformerBlock`.
    public static let distilBert = EncoderLayerNames(
        query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
        attentionOutput: "attention.out_lin", attentionNorm: "sa_layer_norm",
        intermediate: "ffn.lin1", output: "ffn.lin2", outputNorm: "output_layer_norm")
}

extension EncoderLayerNames {
    /// Checks every layer's projections against the config's widths (`hiddenField`,
    /// `intermediateField`: the config's own key names, for the message).
    public func requireShapes(_ layers: Weights, count: Int, hidden: Int, intermediate: Int,
                              hiddenField: String, intermediateField: String) throws {
        for i in layers.numberedScopes(count, holding: query + ".weight") {
            try requireShapes(of: layers.scope("\(i)"), hidden: hidden, intermediate: intermediate,
                              hiddenField: hiddenField, intermediateField: intermediateField)
        }
    }

    /// Checks one layer's projections, where the checkpoint has them.
    public func requireShapes(of layer: Weights, hidden: Int, intermediate: Int, hiddenField: String, intermediateField: String) throws {
        let widths = "\(hiddenField) \(hidden), \(intermediateField) \(intermediate)"
        for square in [query, key, value, attentionOutput] {
            try layer.requireShape(square + ".weight", [hidden, hidden], configFields: widths)
        }
        try layer.requireShape(self.intermediate + ".weight", [intermediate, hidden], configFields: widths)
        try layer.requireShape(output + ".weight", [hidden, intermediate], configFields: widths)
    }
}

/// The hyper-parameters of an encoder stack.
public struct EncoderShape: Sendable {
    public var heads: Int
    public var activation: Activation
    public var layerNormEpsilon: Double
    public init(heads: Int, activation: Activation, layerNormEpsilon: Double) {
        self.heads = heads; self.activation = activation; self.layerNormEpsilon = layerNormEpsilon
    }
}

extension GraphBuilder {
    /// `attention_mask` `[batch, seq]` (1 = attend) as the additive bias transformers adds to the
    /// scores: 0 where attended, the float32 minimum where masked, shaped `[batch, 1, 1, seq]`.
    public func additiveAttentionMask(_ mask: Value) throws -> Value {
        try scope("attention_mask") {
            let m = try cast(mask, to: .float32)
            let inverted = try sub(scalar(1), m)
            let bias = try mul(inverted, scalar(-Float.greatestFiniteMagnitude))
            return try unsqueeze(bias, [1, 2])
        }
    }

    /// One post-LayerNorm encoder layer (BERT's): self-attention, residual, LayerNorm, feed-forward,
    /// residual, LayerNorm.
    public func postNormEncoderLayer(_ x: Value, _ w: Weights, names: EncoderLayerNames, shape: EncoderShape, mask: Value) throws -> Value {
        let q = try scope(names.query) { try linear(x, w.scope(names.query)) }
        let k = try scope(names.key) { try linear(x, w.scope(names.key)) }
        let v = try scope(names.value) { try linear(x, w.scope(names.value)) }
        let hidden = graph.type(of: q).shape.last?.fixedValue ?? 0
        guard hidden % shape.heads == 0 else {
            throw ExportError("\(w.store.origin): hidden size \(hidden) is not divisible by \(shape.heads) attention heads")
        }
        let scale = 1 / Float(hidden / shape.heads).squareRoot()
        let context = try node(.attention(heads: shape.heads, scale: scale), q, k, v, mask)
        return try postNormSublayers(x, context: context, w, names: names, shape: shape)
    }

    /// The rest of a post-LayerNorm layer once attention gave its `context`: output projection,
    /// residual, LayerNorm, feed-forward, residual, LayerNorm (DeBERTa computes its own attention).
    public func postNormSublayers(_ x: Value, context: Value, _ w: Weights, names: EncoderLayerNames, shape: EncoderShape) throws -> Value {
        let attended = try scope(names.attentionOutput) { try linear(context, w.scope(names.attentionOutput)) }
        let h1 = try scope(names.attentionNorm) { try layerNorm(try add(attended, x), w.scope(names.attentionNorm), epsilon: shape.layerNormEpsilon) }
        let inner = try scope(names.intermediate) { try activation(try linear(h1, w.scope(names.intermediate)), shape.activation) }
        let out = try scope(names.output) { try linear(inner, w.scope(names.output)) }
        return try scope(names.outputNorm) { try layerNorm(try add(out, h1), w.scope(names.outputNorm), epsilon: shape.layerNormEpsilon) }
    }
}

extension GraphBuilder {
    /// `count` post-LayerNorm layers over `x`, layer `i` reading weights under `layers.i` and
    /// naming its nodes `/<scopeName>/layer.i/...`, all sharing one attention mask.
    public func postNormEncoderStack(_ x: Value, _ layers: Weights, scopeName: String, count: Int,
                                     names: EncoderLayerNames, shape: EncoderShape, attentionMask: Value) throws -> Value {
        let mask = try additiveAttentionMask(attentionMask)
        var h = x
        for i in 0..<count {
            h = try scope("\(scopeName)/layer.\(i)") {
                try postNormEncoderLayer(h, layers.scope("\(i)"), names: names, shape: shape, mask: mask)
            }
        }
        return h
    }

    /// A task head that is one `nn.Linear` called `name` (`classifier`, `qa_outputs`).
    public func linearHead(_ x: Value, _ root: Weights, named name: String, asStored: Bool = false) throws -> Value {
        try scope(name) { try linear(x, root.scope(name), asStored: asStored) }
    }
}
