import Foundation
import ONNXExportIR

/// Transformer-XL (transformers 4 `models/deprecated/transfo_xl/modeling_transfo_xl.py`; gone
/// from transformers 5): adaptive input embeddings, layers of relative positional attention
/// with learnable content and position biases (`r_w_bias`, `r_r_bias`, shared or per layer with
/// `untie_r`) over a segment memory, post- or pre-LayerNorm (`pre_lnorm`, without a final norm
/// either way), and a projected adaptive softmax whose output is log-probabilities (what
/// transformers returns as `prediction_scores`). The memory contract is `MemoryTaskGraph`'s.
public struct TransfoXL: MemoryDecoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["transfo-xl", "transfo_xl"],
                                                tasks: [.featureExtraction, .textGeneration, .textGenerationWithPast],
                                                make: { try TransfoXL($0, $1) },
                                                unavailableTasks: { config in
        // mem_len 0 keeps no memory, so there is none to carry (MemoryTaskGraph refuses it).
        ((try? TransfoXLConfig(config))?.memoryLength ?? 1) <= 0 ? [.textGenerationWithPast] : []
    })

    let c: TransfoXLConfig
    /// The base model (`transformer.` in `TransfoXLLMHeadModel`, nothing in `TransfoXLModel`).
    let w: Weights
    /// The checkpoint root, where the LM head's `crit.*` lives.
    let root: Weights

    init(_ config: ConfigReader, _ store: WeightStore) throws {
        c = try TransfoXLConfig(config)
        root = Weights(store)
        w = root.base(["transformer", ""], probe: "word_emb.emb_layers.0.weight")
        try w.scope("layers").requireNumberedScopes(c.layers, holding: "dec_attn.qkv_net.weight", configField: "n_layer")
        try requireShapes()
    }

    public var layerCount: Int { c.layers }
    public var memoryWidth: Int { c.modelWidth }
    public var memoryLength: Int { c.memoryLength }

    public func decode(_ ids: Value, memories: [Value]?, _ b: GraphBuilder) throws -> MemoryDecoderOutputs {
        var h = try b.scope("word_emb") {
            try b.adaptiveEmbedding(ids, clusters: try embeddingClusters(b), scale: Float(Double(c.modelWidth).squareRoot()))
        }
        let queryLength = try b.scalarDimension(ids, axis: 1)
        let memoryLength = try memories?.first.map { try b.scalarDimension($0, axis: 1) } ?? b.int64s([0], scalar: true)
        let keyLength = try b.add(memoryLength, queryLength, name: "KeyLength")
        let sinusoids = try b.relativeSinusoids(keyLength: keyLength, inverseFrequencies: try inverseFrequencies(b),
                                                clampLength: c.clampLength > 0 ? c.clampLength : nil)
        let masked = try b.segmentAttentionMask(queryLength: queryLength, memoryLength: memoryLength, keyLength: keyLength,
                                                sameLength: c.sameLength ? c.memoryLength : nil)
        var extended: [Value] = []
        for i in 0..<c.layers {
            h = try b.scope("layers.\(i)") {
                let all = try memories.map { try b.node(.concat(axis: 1), $0[i], h, name: "ConcatMemory") } ?? h
                extended.append(all)
                return try layer(i, h, extended: all, sinusoids: sinusoids, masked: masked, b)
            }
        }
        return MemoryDecoderOutputs(hidden: h, extendedInputs: extended)
    }

    /// `RelPartialLearnableDecoderLayer`: relative attention over memory and new tokens, then
    /// `PositionwiseFF`, each with its residual and LayerNorm (after, or before with `pre_lnorm`).
    func layer(_ i: Int, _ h: Value, extended: Value, sinusoids: Value, masked: Value, _ b: GraphBuilder) throws -> Value {
        let layer = w.scope("layers.\(i)"), attn = layer.scope("dec_attn")
        let attended = try b.scope("dec_attn") {
            let norm = attn.scope("layer_norm")
            let queries = c.preNorm ? try b.scope("layer_norm") { try b.layerNorm(h, norm, epsilon: c.epsilon) } : h
            let keys = c.preNorm ? try b.scope("layer_norm") { try b.layerNorm(extended, norm, epsilon: c.epsilon) } : extended
            // One fused `qkv_net`; queries are only needed for the new tokens, so its rows are
            // split: query rows on those, key and value rows on memory and new tokens.
            let width = c.attentionWidth
            let fused = try attn.tensor("qkv_net.weight", rank: 2)
            let (q, kv) = try b.scope("qkv_net") {
                (try b.project(queries, try fused.rows(0, width), name: attn.fullName("qkv_net.weight") + ".query"),
                 try b.project(keys, try fused.rows(width, 2 * width), name: attn.fullName("qkv_net.weight") + ".key_value"))
            }
            let r = try b.scope("r_net") { try b.linear(sinusoids, attn.scope("r_net"), bias: false) }
            // [1, H, D, K]: rank 4 like the queries. onnxruntime 1.32 crashes creating a session for
            // a float16 graph whose MatMul broadcasts a rank-3 operand against a rank-4 one (its
            // NCHWc layout pass; XLNet met it too).
            let positionKeys = try b.unsqueeze(try b.transpose(try b.reshape(r, [0, c.heads, c.headSize]), [1, 2, 0]), [0], name: "PositionKeys")
            let context = try b.relativePartialAttention(
                query: try b.splitHeads(q, heads: c.heads, headSize: c.headSize),
                key: try b.splitHeads(try b.columns(kv, 0, width, name: "Key"), heads: c.heads, headSize: c.headSize),
                value: try b.splitHeads(try b.columns(kv, width, width, name: "Value"), heads: c.heads, headSize: c.headSize),
                positionKeys: positionKeys, contentBias: try bias("r_w_bias", layer: i, b), positionBias: try bias("r_r_bias", layer: i, b),
                masked: masked, scale: Float(1 / Double(c.headSize).squareRoot()))
            let out = try b.scope("o_net") { try b.linear(try b.mergeHeads(context), attn.scope("o_net"), bias: false) }
            let sum = try b.add(h, out, name: "Residual")
            return c.preNorm ? sum : try b.scope("layer_norm") { try b.layerNorm(sum, norm, epsilon: c.epsilon) }
        }
        return try b.scope("pos_ff") {
            let ff = layer.scope("pos_ff"), norm = ff.scope("layer_norm")
            let input = c.preNorm ? try b.scope("layer_norm") { try b.layerNorm(attended, norm, epsilon: c.epsilon) } : attended
            let inner = try b.scope("CoreNet.0") { try b.node(.relu, try b.linear(input, ff.scope("CoreNet.0"))) }
            let out = try b.scope("CoreNet.3") { try b.linear(inner, ff.scope("CoreNet.3")) }
            let sum = try b.add(attended, out, name: "Residual")
            return c.preNorm ? sum : try b.scope("layer_norm") { try b.layerNorm(sum, norm, epsilon: c.epsilon) }
        }
    }

    /// `r_w_bias` / `r_r_bias` `[n_head, d_head]` as `[n_head, 1, d_head]`: the layer's own with
    /// `untie_r`, else the model's. (A shared bias is also saved under every layer's name;
    /// transformers loads it from the model's name only and initialises it at random when that
    /// is missing, so a missing one is an error here.)
    func bias(_ name: String, layer i: Int, _ b: GraphBuilder) throws -> Value {
        try b.unsqueeze(try w.value(c.untieR ? "layers.\(i).dec_attn.\(name)" : name, rank: 2, in: b), [1])
    }

    /// `pos_emb.inv_freq` as the checkpoint saved it (a persistent buffer, so transformers loads
    /// it), else `1 / 10000^(2k / d_model)` in float32 as torch computes it (and XLNet here): the
    /// same bits up to d_model 128; past that torch's vectorised `pow` is an ulp off `powf` for
    /// a few frequencies (1 of 128 at 256, 4 of 512 at 1024). Either way an inline float32
    /// constant (`d_model / 2` numbers), not a streamed weight: a reduced-precision export then
    /// keeps the angles, sines and cosines in float32, as it keeps rotary angles (float16 has a
    /// spacing of 0.5 at distance 1000, and ONNX has no bfloat16 `Sin`).
    func inverseFrequencies(_ b: GraphBuilder) throws -> Value {
        guard w.has("pos_emb.inv_freq") else {
            return b.literal(.float32(RotaryConfig.exponents(width: c.modelWidth).map { 1 / powf(10000, $0) }))
        }
        let saved = try w.tensor("pos_emb.inv_freq", rank: 1)
        return b.literal(TensorData(dtype: .float32, shape: saved.shape, storage: .inline(try saved.materialize())))
    }

    /// `AdaptiveEmbedding`'s tables and projections: one table and, when `d_embed ≠ d_model`,
    /// one projection with `div_val` 1; a table and a projection per cluster otherwise.
    func embeddingClusters(_ b: GraphBuilder) throws -> [AdaptiveEmbeddingCluster] {
        let emb = w.scope("word_emb")
        if c.divVal == 1 {
            let projection = c.embeddingWidth != c.modelWidth ? try emb.value("emb_projs.0", rank: 2, in: b) : nil
            return [AdaptiveEmbeddingCluster(start: 0, end: c.vocabSize, table: try emb.value("emb_layers.0.weight", rank: 2, in: b),
                                             projection: projection)]
        }
        let ends = c.clusterEnds
        return try ends.indices.dropLast().map { i in
            AdaptiveEmbeddingCluster(start: ends[i], end: ends[i + 1], table: try emb.value("emb_layers.\(i).weight", rank: 2, in: b),
                                     projection: try emb.value("emb_projs.\(i)", rank: 2, in: b))
        }
    }

    /// `ProjectedAdaptiveLogSoftmax` (`crit`) with transformers' ties: `tie_word_embeddings`
    /// makes each output layer's weight the embedding table's, `tie_projs[i]` its projection
    /// the embedding's (`emb_projs.0` with `div_val` 1, `emb_projs.i` otherwise).
    public func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        guard c.sampleSoftmax <= 0 else {
            throw ExportError("\(root.store.origin): sample_softmax \(c.sampleSoftmax) is not supported: transformers' TransfoXLLMHeadModel refuses a sampled softmax")
        }
        let crit = root.scope("crit"), emb = w.scope("word_emb")
        let ends = c.clusterEnds
        let clusters: [AdaptiveSoftmaxCluster] = try b.scope("crit") {
            try ends.indices.dropLast().map { i in
                let layer = c.divVal == 1 ? 0 : i
                var weight = c.tieWordEmbeddings ? try emb.value("emb_layers.\(layer).weight", rank: 2, in: b)
                                                 : try crit.value("out_layers.\(layer).weight", rank: 2, in: b)
                var bias = try crit.value("out_layers.\(layer).bias", rank: 1, in: b)
                if c.divVal == 1, ends.count > 2 {
                    // One output layer for the whole vocabulary: each cluster takes its rows.
                    let (start, end) = (b.int64s([ends[i]]), b.int64s([ends[i + 1]]))
                    weight = try b.node(.slice, weight, start, end, b.int64s([0]), name: "ClusterWeight.\(i)")
                    bias = try b.node(.slice, bias, start, end, b.int64s([0]), name: "ClusterBias.\(i)")
                }
                var projection: Value? = nil
                if c.divVal != 1 || c.embeddingWidth != c.modelWidth {
                    projection = c.tiesProjection(i) ? try emb.value("emb_projs.\(layer)", rank: 2, in: b)
                                                     : try crit.value("out_projs.\(i)", rank: 2, in: b)
                }
                return AdaptiveSoftmaxCluster(weight: weight, bias: bias, projection: projection)
            }
        }
        let tails = Array(clusters.dropFirst())
        return try b.scope("crit") {
            try b.adaptiveLogSoftmax(hidden, head: clusters[0], tails: tails,
                                     clusterWeight: tails.isEmpty ? nil : try crit.value("cluster_weight", rank: 2, in: b),
                                     clusterBias: tails.isEmpty ? nil : try crit.value("cluster_bias", rank: 1, in: b))
        }
    }

    /// Every stored tensor against the config's sizes (missing ones are left to the graph).
    func requireShapes() throws {
        let n = c.modelWidth, e = c.embeddingWidth, a = c.attentionWidth, ends = c.clusterEnds
        let fields = "d_model \(n), d_embed \(e), n_head \(c.heads), d_head \(c.headSize), d_inner \(c.innerSize)"
        let emb = w.scope("word_emb"), crit = root.scope("crit")
        let clusterFields = "vocab_size \(c.vocabSize), cutoffs \(c.cutoffs), div_val \(c.divVal), d_embed \(e), d_model \(n)"
        if c.divVal == 1 {
            try emb.requireShape("emb_layers.0.weight", [c.vocabSize, e], configFields: clusterFields)
            try emb.requireShape("emb_projs.0", [n, e], configFields: clusterFields)
            try crit.requireShape("out_layers.0.weight", [c.vocabSize, e], configFields: clusterFields)
            try crit.requireShape("out_layers.0.bias", [c.vocabSize], configFields: clusterFields)
            for i in ends.indices.dropLast() { try crit.requireShape("out_projs.\(i)", [n, e], configFields: clusterFields) }
        } else {
            for i in ends.indices.dropLast() {
                let rows = ends[i + 1] - ends[i], width = c.clusterWidth(i)
                try emb.requireShape("emb_layers.\(i).weight", [rows, width], configFields: clusterFields)
                try emb.requireShape("emb_projs.\(i)", [n, width], configFields: clusterFields)
                try crit.requireShape("out_layers.\(i).weight", [rows, width], configFields: clusterFields)
                try crit.requireShape("out_layers.\(i).bias", [rows], configFields: clusterFields)
                try crit.requireShape("out_projs.\(i)", [n, width], configFields: clusterFields)
            }
        }
        try crit.requireShape("cluster_weight", [c.cutoffs.count, e], configFields: clusterFields)
        try crit.requireShape("cluster_bias", [c.cutoffs.count], configFields: clusterFields)
        try w.requireShape("pos_emb.inv_freq", [n / 2], configFields: "d_model \(n)")
        for name in ["r_w_bias", "r_r_bias"] { try w.requireShape(name, [c.heads, c.headSize], configFields: fields) }
        for i in 0..<c.layers {
            let attn = w.scope("layers.\(i).dec_attn"), ff = w.scope("layers.\(i).pos_ff")
            try attn.requireShape("qkv_net.weight", [3 * a, n], configFields: fields)
            try attn.requireShape("r_net.weight", [a, n], configFields: fields)
            try attn.requireShape("o_net.weight", [n, a], configFields: fields)
            for name in ["r_w_bias", "r_r_bias"] { try attn.requireShape(name, [c.heads, c.headSize], configFields: fields) }
            try ff.requireShape("CoreNet.0.weight", [c.innerSize, n], configFields: fields)
            try ff.requireShape("CoreNet.3.weight", [n, c.innerSize], configFields: fields)
        }
    }
}
