import Foundation
import ONNXExportIR

/// T5 (transformers `modeling_t5.py`), mT5 (the same arithmetic) and UMT5 (`modeling_umt5.py`:
/// a relative attention bias in every layer): an encoder-decoder of pre-norm blocks with RMS
/// norms without mean or bias, attention scores not scaled by √d, and relative position
/// buckets added to the scores — bidirectional in the encoder, causal in the decoder, whose
/// query positions start at the cached length. v1.0 checkpoints use a ReLU feed-forward and a
/// head tied to the embedding, applied to hidden states scaled by `d_model^-0.5`; v1.1 and mT5
/// a gated GELU and an untied, unscaled head. In float16, each block's sub-layer outputs get
/// transformers' guard against infinities (`saturateFloat16`).
public struct T5: Seq2SeqModel {
    public static let entry = ArchitectureEntry(modelTypes: ["t5", "mt5", "umt5"], tasks: Task.seq2seqTasks) { try T5($0, $1) }

    let modelDim, keyValueSize, feedForwardSize, heads, encoderLayers, decoderLayers, vocabSize: Int
    let epsilon: Double
    let activation: Activation
    let gated: Bool
    /// UMT5: every layer's self-attention has its own bias table; T5: the first layer's serves all.
    let biasInEveryLayer: Bool
    let encoderBuckets, decoderBuckets: RelativePositionTable
    let scalesHead: Bool
    let headName: String
    let root: Weights
    let origin: String

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        origin = c.origin
        let modelType = try c.string("model_type", default: "t5")
        modelDim = try c.positiveInt(c.has("d_model") ? "d_model" : "hidden_size", default: 512)
        keyValueSize = try c.positiveInt("d_kv", default: 64)
        feedForwardSize = try c.positiveInt("d_ff", default: 2048)
        heads = try c.positiveInt(c.has("num_heads") ? "num_heads" : "num_attention_heads", default: 8)
        encoderLayers = try c.positiveInt(c.has("num_layers") ? "num_layers" : "num_hidden_layers", default: 6)
        decoderLayers = c.has("num_decoder_layers") ? try c.positiveInt("num_decoder_layers") : encoderLayers
        vocabSize = try c.positiveInt("vocab_size", default: 32128)
        epsilon = try c.double("layer_norm_epsilon", default: 1e-6)
        let buckets = try c.positiveInt("relative_attention_num_buckets", default: 32)
        let distance = try c.positiveInt("relative_attention_max_distance", default: 128)
        encoderBuckets = try .t5(bidirectional: true, buckets: buckets, maxDistance: distance, origin: c.origin)
        decoderBuckets = try .t5(bidirectional: false, buckets: buckets, maxDistance: distance, origin: c.origin)
        biasInEveryLayer = modelType == "umt5"

        // `feed_forward_proj`: "relu", "gelu", "gated-gelu" (GELU's tanh form, for backward
        // compatibility), "gated-silu", ... as T5Config parses it.
        let projection = try c.string("feed_forward_proj", default: "relu")
        let parts = projection.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 1 || (parts.count == 2 && parts[0] == "gated") else {
            throw ExportError("\(c.origin): feed_forward_proj \"\(projection)\" must be an activation or gated-<activation> (relu, gated-gelu, ...)")
        }
        // `dense_act_fn` and `is_gated_act`, where the file has them, win over what
        // feed_forward_proj implies (transformers 4 and 5 both read them back so).
        gated = c.has("is_gated_act") ? try c.bool("is_gated_act") : parts.count == 2
        activation = c.has("dense_act_fn")
            ? try Activation(configValue: try c.string("dense_act_fn"), origin: c.origin, key: "dense_act_fn")
            : projection == "gated-gelu" ? .geluNew : try Activation(configValue: parts.last ?? "", origin: c.origin, key: "feed_forward_proj")

        root = Weights(store)
        // The head: transformers 5 configs say whether hidden states are scaled
        // (`scale_decoder_outputs`; mT5 never scales in transformers 5, and its configs always say
        // `tie_word_embeddings: true`) and tie only when the checkpoint has no head of its own;
        // transformers 4 configs tie and scale when `tie_word_embeddings` (default true).
        let savedByTransformers5 = (try c.optionalString("transformers_version")).flatMap { Int($0.prefix { $0 != "." }) }.map { $0 >= 5 } ?? false
        if c.has("scale_decoder_outputs") || (modelType == "mt5" && savedByTransformers5) {
            scalesHead = c.has("scale_decoder_outputs") ? try c.bool("scale_decoder_outputs") : false
            headName = root.has("lm_head.weight") ? "lm_head.weight" : Self.embeddingName(root)
        } else {
            let tied = try c.bool("tie_word_embeddings", default: true)
            scalesHead = tied
            headName = tied ? Self.embeddingName(root) : "lm_head.weight"
        }

        let inner = try c.product([heads, keyValueSize], of: "num_heads × d_kv")
        let embedding = Self.embeddingName(root)
        try root.requireShape(embedding, [vocabSize, modelDim], configFields: "vocab_size \(vocabSize), d_model \(modelDim)")
        try root.requireShape("lm_head.weight", [vocabSize, modelDim], configFields: "vocab_size \(vocabSize), d_model \(modelDim)")
        try root.scope("encoder.block").requireNumberedScopes(encoderLayers, holding: "layer.0.SelfAttention.q.weight", configField: "num_layers")
        try requireLayerShapes(root.scope("encoder.block"), count: encoderLayers, crossAttention: false, inner: inner, buckets: buckets)
        try requireLayerShapes(root.scope("decoder.block"), count: decoderLayers, crossAttention: true, inner: inner, buckets: buckets)
    }

    /// `shared.weight`, or a stack's own copy where a checkpoint kept only that.
    static func embeddingName(_ root: Weights) -> String {
        ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"].first(where: root.has) ?? "shared.weight"
    }

    /// Every stored layer tensor against the config's sizes (missing ones are left to the graph).
    func requireLayerShapes(_ blocks: Weights, count: Int, crossAttention: Bool, inner: Int, buckets: Int) throws {
        let fields = "d_model \(modelDim), num_heads \(heads), d_kv \(keyValueSize), d_ff \(feedForwardSize)"
        // Only the layers the checkpoint holds: a config claiming 2⁶² layers costs one lookup.
        for i in blocks.numberedScopes(count, holding: "layer.0.layer_norm.weight") {
            let block = blocks.scope("\(i)")
            let attentions = crossAttention ? ["layer.0.SelfAttention", "layer.1.EncDecAttention"] : ["layer.0.SelfAttention"]
            for a in attentions {
                for p in ["q", "k", "v"] { try block.requireShape("\(a).\(p).weight", [inner, modelDim], configFields: fields) }
                try block.requireShape("\(a).o.weight", [modelDim, inner], configFields: fields)
            }
            try block.requireShape("layer.0.SelfAttention.relative_attention_bias.weight", [buckets, heads],
                                   configFields: "relative_attention_num_buckets \(buckets), num_heads \(heads)")
            let ff = "layer.\(crossAttention ? 2 : 1).DenseReluDense"
            for p in ["wi", "wi_0", "wi_1"] { try block.requireShape("\(ff).\(p).weight", [feedForwardSize, modelDim], configFields: fields) }
            try block.requireShape("\(ff).wo.weight", [modelDim, feedForwardSize], configFields: fields)
        }
    }

    public var encoderHiddenSize: Int { modelDim }
    public var decoderLayerCount: Int { decoderLayers }
    public var decoderHeads: Int { heads }
    public var decoderHeadSize: Int { keyValueSize }

    var attentionShape: AttentionShape { AttentionShape(heads: heads, keyValueHeads: heads, headSize: keyValueSize, scale: 1) }

    func embedding(_ b: GraphBuilder) throws -> Value {
        try root.value(Self.embeddingName(root), rank: 2, in: b)
    }

    public func encode(inputIDs: Value, attentionMask: Value, _ b: GraphBuilder) throws -> Value {
        let blocks = root.scope("encoder.block")
        var h = try b.embed(inputIDs, try embedding(b), name: "embed_tokens")
        let positions = try b.node(.range, b.int64s([0], scalar: true), try b.scalarDimension(inputIDs, axis: 1), b.int64s([1], scalar: true),
                                   name: "Positions")
        let padding = try b.additiveAttentionMask(attentionMask)
        var shared: Value? = nil
        for i in 0..<encoderLayers {
            let layer = blocks.scope("\(i)")
            h = try b.scope("block.\(i)") {
                let mask = try selfAttentionMask(layer, encoderBuckets, queries: positions, keys: positions, adding: padding, shared: &shared, b)
                let attended = try b.scope("layer.0") {
                    let normed = try b.rmsNorm(h, layer.scope("layer.0.layer_norm"), epsilon: epsilon)
                    let w = layer.scope("layer.0.SelfAttention")
                    let (q, k, v) = try projections(normed, w, b)
                    return try residual(h, try b.node(.attention(heads: heads, scale: 1), q, k, v, mask), w, b)
                }
                return try feedForward(attended, layer.scope("layer.1"), b, scope: "layer.1")
            }
        }
        return try b.scope("final_layer_norm") { try b.rmsNorm(h, root.scope("encoder.final_layer_norm"), epsilon: epsilon) }
    }

    public func decode(_ inputs: Seq2SeqDecoderInputs, _ b: GraphBuilder) throws -> Seq2SeqDecoderOutputs {
        try root.scope("decoder.block").requireNumberedScopes(decoderLayers, holding: "layer.0.SelfAttention.q.weight", configField: "num_decoder_layers")
        let blocks = root.scope("decoder.block")
        var h = try b.embed(inputs.inputIDs, try embedding(b), name: "embed_tokens")
        let one = b.int64s([1], scalar: true)
        let length = try b.scalarDimension(inputs.inputIDs, axis: 1)
        let past = try inputs.selfPast.map { try b.scalarDimension($0[0].key, axis: 2) } ?? b.int64s([0], scalar: true)
        let total = try b.add(past, length, name: "TotalLength")
        let queries = try b.node(.range, past, total, one, name: "QueryPositions")
        let keys = try b.node(.range, b.int64s([0], scalar: true), total, one, name: "KeyPositions")
        let causal = try b.causalMask(queries: queries, keys: keys)
        let crossMask = try b.additiveAttentionMask(inputs.encoderAttentionMask)

        var selfPresents: [KeyValue] = [], crossPresents: [KeyValue] = []
        var shared: Value? = nil
        for i in 0..<decoderLayers {
            let layer = blocks.scope("\(i)")
            h = try b.scope("block.\(i)") {
                let mask = try selfAttentionMask(layer, decoderBuckets, queries: queries, keys: keys, adding: causal, shared: &shared, b)
                let afterSelf = try b.scope("layer.0") {
                    let normed = try b.rmsNorm(h, layer.scope("layer.0.layer_norm"), epsilon: epsilon)
                    let w = layer.scope("layer.0.SelfAttention")
                    let (q, k, v) = try projections(normed, w, b)
                    let (context, present) = try b.causalSelfAttention(q: q, k: k, v: v, shape: attentionShape, mask: mask, rotary: nil,
                                                                       past: inputs.selfPast?[i])
                    selfPresents.append(present)
                    return try residual(h, context, w, b)
                }
                let afterCross = try b.scope("layer.1") {
                    let normed = try b.rmsNorm(afterSelf, layer.scope("layer.1.layer_norm"), epsilon: epsilon)
                    let w = layer.scope("layer.1.EncDecAttention")
                    let q = try b.splitHeads(try b.scope("q") { try b.linear(normed, w.scope("q"), bias: false) }, heads: heads, headSize: keyValueSize)
                    let cross: KeyValue
                    if let cached = inputs.crossPast?[i] {
                        cross = cached
                    } else if let encoded = inputs.encoderHiddenStates {
                        cross = KeyValue(
                            key: try b.splitHeads(try b.scope("k") { try b.linear(encoded, w.scope("k"), bias: false) }, heads: heads, headSize: keyValueSize),
                            value: try b.splitHeads(try b.scope("v") { try b.linear(encoded, w.scope("v"), bias: false) }, heads: heads, headSize: keyValueSize))
                    } else {
                        throw ExportError("a decoder step needs the encoder's hidden states or the cross-attention cache")
                    }
                    crossPresents.append(cross)
                    let context = try b.mergeHeads(try b.node(.headAttention(scale: 1), q, cross.key, cross.value, crossMask))
                    return try residual(afterSelf, context, w, b)
                }
                return try feedForward(afterCross, layer.scope("layer.2"), b, scope: "layer.2")
            }
        }
        let hidden = try b.scope("final_layer_norm") { try b.rmsNorm(h, root.scope("decoder.final_layer_norm"), epsilon: epsilon) }
        return Seq2SeqDecoderOutputs(hidden: hidden, selfPresents: selfPresents, crossPresents: crossPresents)
    }

    /// The additive mask of a layer's self-attention: its relative position bias plus `base` (the
    /// padding or causal mask). T5 and mT5 compute it in the first layer and every later layer
    /// reuses it (`shared`); UMT5 computes it in every layer from the layer's own table.
    func selfAttentionMask(_ layer: Weights, _ buckets: RelativePositionTable, queries: Value, keys: Value, adding base: Value,
                           shared: inout Value?, _ b: GraphBuilder) throws -> Value {
        if !biasInEveryLayer, let shared { return shared }
        let bias = try positionBias(layer.scope("layer.0.SelfAttention"), buckets, queries: queries, keys: keys, b)
        let mask = try b.add(bias, base, name: "MaskAndPositionBias")
        if !biasInEveryLayer { shared = mask }
        return mask
    }

    /// The query, key and value projections of one attention (no biases in T5).
    func projections(_ x: Value, _ w: Weights, _ b: GraphBuilder) throws -> (Value, Value, Value) {
        (try b.scope("q") { try b.linear(x, w.scope("q"), bias: false) },
         try b.scope("k") { try b.linear(x, w.scope("k"), bias: false) },
         try b.scope("v") { try b.linear(x, w.scope("v"), bias: false) })
    }

    /// `x + o(context)`, under the float16 guard.
    func residual(_ x: Value, _ context: Value, _ w: Weights, _ b: GraphBuilder) throws -> Value {
        try b.node(.saturateFloat16, try b.add(x, try b.scope("o") { try b.linear(context, w.scope("o"), bias: false) }))
    }

    /// `T5LayerFF`: RMS norm, the (gated) feed-forward, residual.
    func feedForward(_ x: Value, _ w: Weights, _ b: GraphBuilder, scope: String) throws -> Value {
        try b.scope(scope) {
            let normed = try b.rmsNorm(x, w.scope("layer_norm"), epsilon: epsilon)
            let ff = w.scope("DenseReluDense")
            let inner: Value
            if gated {
                let gate = try b.activation(try b.scope("wi_0") { try b.linear(normed, ff.scope("wi_0"), bias: false) }, activation)
                inner = try b.mul(gate, try b.scope("wi_1") { try b.linear(normed, ff.scope("wi_1"), bias: false) })
            } else {
                inner = try b.activation(try b.scope("wi") { try b.linear(normed, ff.scope("wi"), bias: false) }, activation)
            }
            return try b.node(.saturateFloat16, try b.add(x, try b.scope("wo") { try b.linear(inner, ff.scope("wo"), bias: false) }))
        }
    }

    /// `compute_bias`: the bias table looked up by the bucket of `key − query`, `[1, heads, Sq, Sk]`,
    /// float32 whatever the export's precision (it meets the float32 mask, whose lowest value
    /// must stay finite).
    func positionBias(_ attention: Weights, _ buckets: RelativePositionTable, queries: Value, keys: Value, _ b: GraphBuilder) throws -> Value {
        try b.scope("relative_attention_bias") {
            let bucket = try b.relativePositionLookup(buckets, queries: queries, keys: keys, queryMinusKey: false)
            let table = try attention.value("relative_attention_bias.weight", rank: 2, in: b)
            let perPair = try b.embed(bucket, table)  // [Sq, Sk, heads]
            return try b.cast(try b.unsqueeze(try b.transpose(perPair, [2, 0, 1]), [0]), to: .float32)
        }
    }

    public func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        try b.scope("lm_head") {
            let scaled = scalesHead ? try b.mul(hidden, b.scalar(Float(Foundation.pow(Double(modelDim), -0.5))), name: "ScaleDecoderOutput") : hidden
            let table = try root.value(headName, rank: 2, in: b)
            return try b.tiedProjection(scaled, table: table)
        }
    }
}
