import ONNXExportIR

/// The shape of DeBERTa's disentangled self-attention (transformers `DisentangledSelfAttention`):
/// content-to-content scores plus, with relative attention, content-to-position (`c2p`: each
/// query against the relative embeddings' keys) and position-to-content (`p2c`: each key against
/// the relative embeddings' queries) scores, all divided by `√(head size · (1 + #kinds))`.
public struct DisentangledAttentionShape: Sendable {
    public var heads: Int
    public var headSize: Int
    public var contentToPosition: Bool
    public var positionToContent: Bool
    /// `share_att_key`: the relative embeddings go through the layer's own `query_proj` /
    /// `key_proj` instead of `pos_query_proj` / `pos_key_proj`.
    public var sharesKeys: Bool

    /// `scaled_size_sqrt`'s factor: 1, plus one for each kind of position scores in
    /// `pos_att_type` (counted even without relative attention, as transformers does).
    var scaleFactor: Int { 1 + (contentToPosition ? 1 : 0) + (positionToContent ? 1 : 0) }
    /// `√(head size · factor)` in float32 (exact product, correctly rounded root, as torch's).
    var scoreDivisor: Float { (Float(headSize) * Float(scaleFactor)).squareRoot() }
}

/// What every layer's relative scores read, computed once per graph: the (normalised) relative
/// embeddings `[2·span, hidden]` and the indices into them for the input's length, expanded to
/// `[B, heads, S, S]` (the gathers want the scores' rank).
public struct DisentangledPositions {
    public var embeddings: Value
    /// `clamp(bucket(q − k) + span, 0, 2·span − 1)`, row = query.
    public var contentToPosition: Value?
    /// `clamp(−bucket(i − j) + span, ...)` at `[i, j]`, the index `p2c` gathers with before its transpose.
    public var positionToContent: Value?
}

extension GraphBuilder {
    /// The context `[B, S, heads · head size]` of one layer's attention over `x`. `w` is the
    /// layer's `attention.self`; `mask` is additive over the keys (`[B, 1, 1, S]`).
    /// `tokens` (`[B, S, 1]`, bool) marks the queries that are tokens: transformers masks a
    /// padded query's whole row, whose softmax over equal lowest values is uniform, so those rows
    /// get the mean of all values, selected after attention. A fully masked row never reaches
    /// the runtime's softmax, whose handling of one differs between kernels and precisions.
    public func disentangledSelfAttention(_ x: Value, _ w: Weights, shape: DisentangledAttentionShape,
                                          positions: DisentangledPositions?, mask: Value, tokens: Value) throws -> Value {
        func heads(_ v: Value) throws -> Value { try splitHeads(v, heads: shape.heads, headSize: shape.headSize) }
        let query = try heads(try scope("query_proj") { try linear(x, w.scope("query_proj")) })
        let key = try heads(try scope("key_proj") { try linear(x, w.scope("key_proj")) })
        let value = try heads(try scope("value_proj") { try linear(x, w.scope("value_proj")) })
        // transformers divides the keys, not the scores: `q · (kᵀ / √(d · factor))`.
        let scaledKey = try div(key, scalar(shape.scoreDivisor), name: "ScaleKey")
        var bias = mask
        if let positions {
            let relative = try scope("relative_scores") { try relativeScores(query: query, key: key, w, shape: shape, positions) }
            // float32 whatever the export's precision: the sum carries the mask's lowest value.
            if let relative { bias = try add(try cast(relative, to: .float32), mask, name: "RelativeScoresAndMask") }
        }
        let attended = try mergeHeads(try node(.headAttention(scale: 1), query, scaledKey, value, bias))
        let uniform = try mergeHeads(try node(.reduce(.mean, axes: [2], keepDims: true), value, name: "PaddedQueries"))
        return try node(.where, tokens, attended, uniform, name: "SelectTokenRows")
    }

    /// `disentangled_attention_bias`: `c2p / divisor + p2c / divisor`, `[B, heads, S, S]`
    /// (nil when `pos_att_type` names neither).
    func relativeScores(query: Value, key: Value, _ w: Weights, shape: DisentangledAttentionShape,
                        _ positions: DisentangledPositions) throws -> Value? {
        /// The relative embeddings through `projection`, as `[heads, head size, 2·span]`.
        func positionProjection(_ projection: String) throws -> Value {
            let projected = try scope(projection) { try linear(positions.embeddings, w.scope(projection)) }
            return try transpose(try reshape(projected, [0, shape.heads, shape.headSize]), [1, 2, 0])
        }
        /// `[B, heads, S, 2·span]` scores gathered at `index` `[B, heads, S, S]` along the last axis.
        func gathered(_ scores: Value, _ index: Value, name: String) throws -> Value {
            try node(.gatherElements(axis: 3), scores, index, name: name)
        }
        var score: Value? = nil
        if shape.contentToPosition, let index = positions.contentToPosition {
            let keys = try positionProjection(shape.sharesKeys ? "key_proj" : "pos_key_proj")
            let c2p = try gathered(try matMul(query, keys, name: "ContentToPosition"), index, name: "GatherContentToPosition")
            score = try div(c2p, scalar(shape.scoreDivisor), name: "ScaleContentToPosition")
        }
        if shape.positionToContent, let index = positions.positionToContent {
            let queries = try positionProjection(shape.sharesKeys ? "query_proj" : "pos_query_proj")
            let p2c = try gathered(try matMul(key, queries, name: "PositionToContent"), index, name: "GatherPositionToContent")
            let scaled = try div(try transpose(p2c, [0, 1, 3, 2]), scalar(shape.scoreDivisor), name: "ScalePositionToContent")
            score = try score.map { try add($0, scaled) } ?? scaled
        }
        return score
    }
}
