/// Checks the invariants every later stage relies on: nodes in topological order, one producer
/// per value, origins that match, unique public names, and outputs that something produces.
public enum Verify {
    public static func run(_ graph: Graph) throws {
        var defined = Set(graph.inputs.map(\.id))
        for (v, _) in graph.constants { defined.insert(v.id) }
        var names: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for case let input? in node.inputs where !defined.contains(input.id) {
                throw ExportError("verify: node \(node.name) reads \(graph[input].name) before it is defined")
            }
            for (k, out) in node.outputs.enumerated() {
                guard graph[out].origin == .node(i, index: k) else {
                    throw ExportError("verify: \(graph[out].name) does not record node \(node.name) as its producer")
                }
                guard defined.insert(out.id).inserted else {
                    throw ExportError("verify: \(graph[out].name) is produced twice")
                }
            }
        }
        for v in graph.inputs + graph.outputs {
            if let other = names[graph[v].name], other != v.id {
                throw ExportError("verify: two graph inputs/outputs are called \(graph[v].name)")
            }
            names[graph[v].name] = v.id
        }
        for out in graph.outputs where !defined.contains(out.id) {
            throw ExportError("verify: output \(graph[out].name) is never produced")
        }
        guard !graph.outputs.isEmpty else { throw ExportError("verify: the graph has no outputs") }
    }
}
