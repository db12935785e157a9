/// Drops nodes whose results never reach a graph output. Unused constants disappear with them:
/// the backend writes only constants a kept node reads.
public enum EliminateDeadCode {
    @discardableResult
    public static func run(_ graph: Graph) -> Int {
        let live = graph.liveValues()
        let before = graph.nodes.count
        graph.nodes.removeAll { node in !node.outputs.contains { live.contains($0.id) } }
        graph.reindexOrigins()
        return before - graph.nodes.count
    }
}
