/// The passes every export runs, in order. Each is one file with its own tests.
public enum PassPipeline {
    public struct Report: Sendable {
        public var foldedNodes = 0
        public var removedNodes = 0
        public var mergedWeights = 0
    }

    public static func run(_ graph: Graph) throws -> Report {
        var report = Report()
        try InferShapes.run(graph)
        report.foldedNodes = try FoldConstants.run(graph)
        report.removedNodes = EliminateDeadCode.run(graph)
        report.mergedWeights = DeduplicateWeights.run(graph)
        try InferShapes.run(graph)
        try Verify.run(graph)
        return report
    }
}
