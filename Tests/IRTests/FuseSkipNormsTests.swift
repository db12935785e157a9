import Testing
@testable import ONNXExportIR

/// Residual sums read by an RMSNorm become one `skipRMSNorm`; everything else stays as built.
@Suite struct FuseSkipNormsTests {
    let hidden = TensorType(.float32, [.batchSize, .sequenceLength, 8])

    func scale(_ b: GraphBuilder, _ name: String) throws -> Value {
        b.weight(try TensorData.file(FileRegion(path: "/nonexistent/\(name)", offset: 0, length: 32), dtype: .float32, shape: [8]), name: name)
    }

    @Test func aResidualSumAndItsNormFuseAndTheSumStaysReadable() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", hidden), y = b.input("y", hidden)
        let sum = try b.add(x, y)
        let normed = try b.node(.rmsNorm(epsilon: 1e-5), sum, try scale(b, "w"))
        try b.output(try b.mul(normed, sum), name: "out")
        #expect(FuseSkipNorms.run(b.graph) == 1)
        try InferShapes.run(b.graph)
        try Verify.run(b.graph)
        #expect(b.graph.nodes.map(\.op.kind) == ["SkipRMSNorm", "Mul"])
        let fused = b.graph.nodes[0]
        #expect(fused.inputs == [x, y, fused.inputs[2]])
        #expect(fused.outputs == [normed, sum])
    }

    @Test func gemmasComputedScaleMovesUpToTheFusedNode() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", hidden), y = b.input("y", hidden)
        let sum = try b.add(x, y)
        let onePlus = try b.add(try scale(b, "w"), b.scalar(1))
        try b.output(try b.node(.rmsNorm(epsilon: 1e-6), sum, onePlus), name: "out")
        #expect(FuseSkipNorms.run(b.graph) == 1)
        try Verify.run(b.graph)
        #expect(b.graph.nodes.map(\.op.kind) == ["Add", "SkipRMSNorm"])
        #expect(b.graph.nodes[0].outputs == [onePlus])
    }

    @Test func broadcastSumsAndScalesComputedFromActivationsAreLeftAlone() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", hidden)
        let biased = try b.add(x, try scale(b, "bias"))
        try b.output(try b.node(.rmsNorm(epsilon: 1e-5), biased, try scale(b, "w")), name: "a")
        let y = b.input("y", hidden)
        let sum = try b.add(x, y)
        let computed = try b.node(.reduce(.mean, axes: [0, 1], keepDims: false), y)
        try b.output(try b.node(.rmsNorm(epsilon: 1e-5), sum, computed), name: "b")
        #expect(FuseSkipNorms.run(b.graph) == 0)
        #expect(!b.graph.nodes.contains { $0.op.kind == "SkipRMSNorm" })
    }

    @Test func groupQueryAttentionTypesItsCacheAndRefusesMismatchedHeads() throws {
        let b = GraphBuilder(name: "t")
        let q = b.input("q", TensorType(.float32, [.batchSize, .sequenceLength, 64]))
        let kv = TensorType(.float32, [.batchSize, .sequenceLength, 32])
        let k = b.input("k", kv), v = b.input("v", kv)
        let past = TensorType(.float32, [.batchSize, .fixed(2), .pastSequenceLength, .fixed(16)])
        let pk = b.input("pk", past), pv = b.input("pv", past)
        let last = b.input("last", TensorType(.int32, [.batchSize])), total = b.input("total", TensorType(.int32, []))
        let table = b.literal(.float32(Array(repeating: 0, count: 4 * 8), shape: [4, 8]))
        let op = Op.groupQueryAttention(heads: 4, keyValueHeads: 2, scale: 0.25, rotary: true)
        let out = try b.apply(op, [q, k, v, pk, pv, last, total, table, table])
        #expect(b.graph.type(of: out[0]) == b.graph.type(of: q))
        #expect(b.graph.type(of: out[1]) == TensorType(.float32, [.batchSize, .fixed(2), .pastSequenceLength + .sequenceLength, .fixed(16)]))
        #expect(throws: ExportError.self) {
            try b.apply(.groupQueryAttention(heads: 4, keyValueHeads: 3, scale: 1, rotary: false), [q, k, v, nil, nil, last, total])
        }
        #expect(throws: ExportError.self) {  // tables of the wrong width for 16-wide heads
            let narrow = b.literal(.float32(Array(repeating: 0, count: 4 * 4), shape: [4, 4]))
            try b.apply(op, [q, k, v, pk, pv, last, total, narrow, narrow])
        }
    }
}
