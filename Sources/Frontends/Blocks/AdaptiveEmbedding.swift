import ONNXExportIR

/// One cluster of an adaptive input embedding (Baevski & Auli): the token ids `[start, end)`
/// look up rows `id − start` of `table` `[end − start, width]`, and `projection`
/// (`[model width, width]`, applied as `nn.functional.linear`, i.e. `x · Pᵀ`) maps them to the
/// model width; nil where the table already has it.
public struct AdaptiveEmbeddingCluster {
    public var start: Int
    public var end: Int
    public var table: Value
    public var projection: Value?
    public init(start: Int, end: Int, table: Value, projection: Value?) {
        self.start = start; self.end = end; self.table = table; self.projection = projection
    }
}

extension GraphBuilder {
    /// transformers' `AdaptiveEmbedding.forward` (Transformer-XL): every token embedded by the
    /// cluster its id falls in, projected to the model width, then multiplied by `scale`
    /// (`d_proj ** 0.5`, rounded to float32 as torch's `mul_` rounds a Python float).
    ///
    /// One cluster (`div_val` 1) is a plain lookup, so an id past the table fails in the runtime
    /// as in torch. With several, each cluster looks up every token at a clamped index and a
    /// `Where` keeps the rows whose id is in range: transformers scatters each cluster's rows
    /// into zeros, so an id outside every cluster embeds as zeros there and here.
    public func adaptiveEmbedding(_ ids: Value, clusters: [AdaptiveEmbeddingCluster], scale: Float) throws -> Value {
        guard let first = clusters.first else { throw ExportError("an adaptive embedding needs at least one cluster") }
        if clusters.count == 1 {
            let rows = try embed(ids, first.table)
            let projected = try first.projection.map { try matMulTransposed(rows, $0, name: "Projection") } ?? rows
            return try mul(projected, scalar(scale), name: "Scale")
        }
        var embedded: Value? = nil
        for (i, cluster) in clusters.enumerated().reversed() {
            embedded = try scope("cluster.\(i)") {
                let inCluster = try node(.and, try node(.not, try node(.less, ids, int64s([cluster.start], scalar: true))),
                                         try node(.less, ids, int64s([cluster.end], scalar: true)), name: "InCluster")
                let local = try node(.where, inCluster, try sub(ids, int64s([cluster.start], scalar: true)), int64s([0], scalar: true),
                                     name: "LocalIndex")
                let rows = try embed(local, cluster.table)
                let projected = try cluster.projection.map { try matMulTransposed(rows, $0, name: "Projection") } ?? rows
                return try node(.where, try unsqueeze(inCluster, [-1]), projected, embedded ?? scalar(0), name: "Select")
            }
        }
        // `clusters` is not empty, so the loop set `embedded`.
        guard let all = embedded else { throw ExportError("an adaptive embedding needs at least one cluster") }
        return try mul(all, scalar(scale), name: "Scale")
    }
}
