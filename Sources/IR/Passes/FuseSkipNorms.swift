/// Joins each residual sum and the RMSNorm that reads it into one `skipRMSNorm` (`--target
/// onnxruntime`): a pre-norm block's `h = x + sublayer; rmsNorm(h)` is onnxruntime's
/// `SkipSimplifiedLayerNormalization`, one kernel that reads both operands once instead of an Add
/// and the norm's five ops.
///
/// The fused node takes the Add's place and keeps its output value as its second output (the
/// sum), so every other reader of the sum is untouched; the norm's output becomes its first.
/// Only an Add of two operands of one shape qualifies (a broadcast bias add is no skip), and only
/// where the norm's scale exists before the Add: a constant, computed earlier, or computed from
/// constants alone (Gemma's `1 + weight`), which then moves up to just before the fused node.
public enum FuseSkipNorms {
    /// Returns the number of norms fused.
    @discardableResult
    public static func run(_ graph: Graph) -> Int {
        var fusedAt: [Int: Node] = [:]
        var hoistedTo: [Int: Int] = [:]
        var removed = Set<Int>()
        for (i, node) in graph.nodes.enumerated() {
            guard case .rmsNorm(let epsilon) = node.op, node.inputs.count == 2, let sum = node.inputs[0], let scale = node.inputs[1],
                  case .node(let a, let index) = graph[sum].origin, index == 0, fusedAt[a] == nil,
                  graph.nodes[a].op == .add, graph.nodes[a].inputs.count == 2,
                  let x = graph.nodes[a].inputs[0], let skip = graph.nodes[a].inputs[1],
                  graph.type(of: x) == graph.type(of: sum), graph.type(of: skip) == graph.type(of: sum),
                  let availability = availability(of: scale, at: a, graph) else { continue }
            if case .afterMoving(let producer) = availability {
                guard !removed.contains(producer) else { continue }
                hoistedTo[a] = producer
                removed.insert(producer)
            }
            fusedAt[a] = Node(op: .skipRMSNorm(epsilon: epsilon), name: node.name, inputs: [x, skip, scale],
                              outputs: [node.outputs[0], sum])
            removed.insert(i)
        }
        guard !fusedAt.isEmpty else { return 0 }
        graph.nodes = graph.nodes.enumerated().flatMap { i, node -> [Node] in
            if let fused = fusedAt[i] { return (hoistedTo[i].map { [graph.nodes[$0]] } ?? []) + [fused] }
            return removed.contains(i) ? [] : [node]
        }
        graph.reindexOrigins()
        return fusedAt.count
    }

    private enum Availability { case ready, afterMoving(producer: Int) }

    /// Whether `v` can be read at node `index` as it is, or once its producer moves there (nil:
    /// neither).
    private static func availability(of v: Value, at index: Int, _ graph: Graph) -> Availability? {
        guard case .node(let producer, _) = graph[v].origin, producer > index else { return .ready }
        let fromConstants = graph.nodes[producer].inputs.allSatisfy { input in input.map { graph[$0].constantData != nil } ?? true }
        return fromConstants ? .afterMoving(producer: producer) : nil
    }
}
