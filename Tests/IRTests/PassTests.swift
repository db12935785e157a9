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

@Suite struct ReducePrecisionTests {
    private func weight(_ b: GraphBuilder, _ name: String, _ shape: [Int]) throws -> Value {
        let region = FileRegion(path: "/nonexistent", offset: 0, length: shape.reduce(1, *) * 4)
        return b.weight(try TensorData.file(region, dtype: .float32, shape: shape), name: name)
    }

    @Test func weightsAndActivationsNarrowOutputsWidenCachesStay() throws {
        let b = GraphBuilder(name: "t")
        let ids = b.input("ids", TensorType(.int64, [.batchSize, 4]))
        let past = b.input("past", TensorType(.float32, [.batchSize, 4, 8]))
        let table = try weight(b, "embed", [10, 8])
        let h = try b.node(.gather(axis: 0), table, ids)
        let scaled = try b.mul(h, b.scalar(2))
        let mask = try b.cast(ids, to: .float32)
        let attended = try b.node(.attention(heads: 2, scale: 0.5), scaled, past, past, try b.unsqueeze(try b.unsqueeze(mask, [1]), [1]))
        try b.output(attended, name: "logits")
        try b.output(try b.node(.concat(axis: 1), past, scaled), name: "present.0")
        _ = try PassPipeline.run(b.graph)

        let casts = try ReducePrecision.run(b.graph, to: .float16, keepingOutputs: { $0.hasPrefix("present.") })
        try InferShapes.run(b.graph)
        try Verify.run(b.graph)
        let g = b.graph
        #expect(casts == 1)
        #expect(g.type(of: past).dtype == .float16)
        let outputs = Dictionary(uniqueKeysWithValues: g.outputs.map { (g[$0].name, g.type(of: $0).dtype) })
        #expect(outputs == ["logits": .float32, "present.0": .float16])
        // The weight and the literal it meets are narrowed; the mask, built from integers, is not.
        let live = g.liveValues()
        let floatConstants = g.constants.filter { live.contains($0.0.id) && $0.1.dtype.isFloatingPoint }
        #expect(floatConstants.allSatisfy { $0.1.dtype == .float16 })
        let attention = try #require(g.nodes.first { $0.op.kind == "Attention" })
        #expect(attention.inputs[3].map { g.type(of: $0).dtype } == .float32)
        #expect(g.nodes.last?.name == "/logits/CastToFloat32")
    }

    @Test func onlyHalfTypesAreTargets() throws {
        let b = GraphBuilder(name: "t")
        try b.output(b.input("x", TensorType(.float32, [2])), name: "y")
        #expect(throws: ExportError.self) { try ReducePrecision.run(b.graph, to: .float64, keepingOutputs: { _ in false }) }
    }
}
