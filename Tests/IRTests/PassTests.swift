import Testing
@testable import ONNXExportIR

@Suite struct PassTests {
    @Test func deadCodeIsRemovedAndNamesAreScoped() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [.batchSize, 4]))
        let kept = try b.scope("encoder") { try b.scope("layer.0") { try b.node(.relu, x) } }
        _ = try b.node(.tanh, x)
        try b.output(kept, name: "y")
        #expect(b.graph.nodes.count == 2)
        #expect(EliminateDeadCode.run(b.graph) == 1)
        #expect(b.graph.nodes.map(\.name) == ["/encoder/layer.0/Relu"])
        try Verify.run(b.graph)
    }

    @Test func identicalWeightsAreStoredOnce() throws {
        let b = GraphBuilder(name: "t")
        let region = FileRegion(path: "/nonexistent", offset: 0, length: 16)
        let w1 = try TensorData.file(region, dtype: .float32, shape: [2, 2])
        let x = b.input("x", TensorType(.float32, [.batchSize, 2]))
        let a = b.weight(w1, name: "a")
        let again = b.weight(w1, name: "b")
        #expect(a == again)
        let y = try b.matMul(x, a)
        try b.output(y, name: "y")
        let report = try PassPipeline.run(b.graph)
        #expect(report.mergedWeights == 0)
        #expect(b.graph.constants.filter { b.graph.liveValues().contains($0.0.id) }.count == 1)
    }

    @Test func shapeOfAFixedTensorFolds() throws {
        let b = GraphBuilder(name: "t")
        let c = b.literal(.float32([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        let x = b.input("x", TensorType(.float32, [.batchSize, 6]))
        let shape = try b.node(.shape, c)
        let y = try b.node(.reshapeDynamic, x, shape)
        try b.output(y, name: "y")
        let report = try PassPipeline.run(b.graph)
        #expect(report.foldedNodes == 1)
        #expect(b.graph.nodes.map(\.op.kind) == ["Reshape"])
    }

    @Test func verifyRejectsDuplicateOutputNames() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [2]))
        try b.output(try b.node(.relu, x), name: "x")
        #expect(throws: ExportError.self) { try Verify.run(b.graph) }
    }

    @Test func declaredOutputMustAgreeWithInference() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [.batchSize, 4]))
        #expect(throws: ExportError.self) { try b.output(x, name: "y", declared: TensorType(.float32, [.batchSize, 5])) }
    }
}
