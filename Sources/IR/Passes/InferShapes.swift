/// Re-derives every value's type from the graph inputs and constants, in node order, and checks
/// it against what is recorded. Graph outputs keep their declared symbolic axes where inference
/// yields unknown ones; any real disagreement is an error naming the node.
public enum InferShapes {
    public static func run(_ graph: Graph) throws {
        let outputs = Set(graph.outputs)
        for node in graph.nodes {
            let inferred = try ShapeRules.infer(node.op, node.inputs.map { $0.map { graph[$0] } }, node: node.name)
            guard inferred.count == node.outputs.count else {
                throw ExportError("shape inference: node \(node.name) has \(node.outputs.count) outputs, its op makes \(inferred.count)")
            }
            for (v, t) in zip(node.outputs, inferred) {
                let recorded = graph.type(of: v)
                let agrees = recorded.dtype == t.type.dtype && recorded.rank == t.type.rank
                    && zip(recorded.shape, t.type.shape).allSatisfy { ShapeRules.compatible($0, $1) }
                guard agrees else {
                    throw ExportError("shape inference: node \(node.name) makes \(t.type) but \(graph[v].name) is recorded as \(recorded)")
                }
                if !outputs.contains(v) { graph[v].type = t.type }
                graph[v].symbolicContents = t.symbolicContents
            }
        }
    }
}
