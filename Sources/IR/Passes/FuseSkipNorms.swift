/// Joins each residual sum and the RMSNorm that reads it into one `skipRMSNorm` (`--target
/// onnxruntime`): a pre-norm block's `h = x + sublayer; rmsNorm(h)` is onnxruntime's
/// `SkipSimplifiedLayerNormalization`, one kernel that reads both operands once instead of an Add
/// and the norm's five ops.
///
/// The fused node takes the Add's place and keeps its output value as its second output (the
/// sum), so every other reader of the sum is untouched; the norm's output becomes its first.
/// Only an Add of two operands of one shape qualifies (a broadcast bias add is no skip), and only
/// where the norm's scale exists before the Add (a constant, or computed earlier).
public enum FuseSkipNorms {
    /// Returns the number of norms fused.
    @discardableResult
    public static func run(_ graph: Graph) -> Int {
        var fusedAt: [Int: Node] = [:]
        var removed = Set<Int>()
        for (i, node) in graph.nodes.enumerated() {
            guard case .rmsNorm(let epsilon) = node.op, node.inputs.count == 2, let sum = node.inputs[0], let scale = node.inputs[1],
                  case .node(let a, let index) = graph[sum].origin, index == 0, fusedAt[a] == nil,
                  graph.nodes[a].op == .add, graph.nodes[a].inputs.count == 2,
                  let x = graph.nodes[a].inputs[0], let skip = graph.nodes[a].inputs[1],
                  graph.type(of: x) == graph.type(of: sum), graph.type(of: skip) == graph.type(of: sum),
                  isAvailable(scale, before: a, graph) else { continue }
            fusedAt[a] = Node(op: .skipRMSNorm(epsilon: epsilon), name: node.name, inputs: [x, skip, scale],
                              outputs: [node.outputs[0], sum])
            removed.insert(i)
        }
        guard !fusedAt.isEmpty else { return 0 }
        graph.nodes = graph.nodes.enumerated().compactMap { i, node in removed.contains(i) ? nil : fusedAt[i] ?? node }
        graph.reindexOrigins()
        return fusedAt.count
    }

    private static func isAvailable(_ v: Value, before index: Int, _ graph: Graph) -> Bool {
        if case .node(let producer, _) = graph[v].origin { return producer < index }
        return true
    }
}
