import ONNXExportIR

/// The output layer of one cluster of a projected adaptive softmax: `weight` `[tokens, width]`
/// and `bias` `[tokens]` (an `nn.Linear`), after `projection` `[model width, width]` where the
/// cluster has one (applied as `hidden · P`, transformers' `linear(hidden, proj.t())`).
public struct AdaptiveSoftmaxCluster {
    public var weight: Value
    public var bias: Value
    public var projection: Value?
    public init(weight: Value, bias: Value, projection: Value?) { self.weight = weight; self.bias = bias; self.projection = projection }
}

extension GraphBuilder {
    /// transformers' `ProjectedAdaptiveLogSoftmax.forward` without labels (Transformer-XL): the
    /// log-probability of every token, `[..., vocab]`.
    ///
    /// Without tail clusters it is `log_softmax` of the head's logits. With them, the head
    /// scores the shortlist and one extra row per tail cluster (`clusterWeight`
    /// `[tails, width]`, `clusterBias`, appended to the head's weight and bias as transformers
    /// concatenates them); a tail token's log-probability is its cluster's head
    /// log-probability plus its own `log_softmax` within the tail.
    public func adaptiveLogSoftmax(_ hidden: Value, head: AdaptiveSoftmaxCluster, tails: [AdaptiveSoftmaxCluster],
                                   clusterWeight: Value?, clusterBias: Value?) throws -> Value {
        guard !tails.isEmpty else {
            return try scope("head") { try node(.logSoftmax(axis: -1), try clusterLogits(hidden, head)) }
        }
        guard let clusterWeight, let clusterBias else {
            throw ExportError("an adaptive softmax with \(tails.count) tail clusters needs the cluster weight and bias")
        }
        guard let shortlist = graph.type(of: head.weight).shape.first?.fixedValue else {
            throw ExportError("an adaptive softmax head needs a known number of shortlist tokens")
        }
        let headLogProbabilities = try scope("head") {
            let extended = AdaptiveSoftmaxCluster(weight: try node(.concat(axis: 0), head.weight, clusterWeight, name: "ConcatClusterWeight"),
                                                  bias: try node(.concat(axis: 0), head.bias, clusterBias, name: "ConcatClusterBias"),
                                                  projection: head.projection)
            return try node(.logSoftmax(axis: -1), try clusterLogits(hidden, extended))
        }
        var parts = [try columns(headLogProbabilities, 0, shortlist, name: "Shortlist")]
        for (i, tail) in tails.enumerated() {
            parts.append(try scope("tail.\(i + 1)") {
                let own = try node(.logSoftmax(axis: -1), try clusterLogits(hidden, tail))
                let cluster = try columns(headLogProbabilities, shortlist + i, 1, name: "ClusterLogProbability")
                return try add(cluster, own)
            })
        }
        return try apply(.concat(axis: -1), parts, name: "ConcatClusters")[0]
    }

    /// transformers' `_compute_logit`: `linear(hidden · P, weight, bias)`.
    private func clusterLogits(_ hidden: Value, _ c: AdaptiveSoftmaxCluster) throws -> Value {
        let projected = try c.projection.map { try matMul(hidden, $0, name: "Projection") } ?? hidden
        return try add(try matMulTransposed(projected, c.weight), c.bias)
    }
}
