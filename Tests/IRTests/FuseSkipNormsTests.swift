import Foundation
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

/// The lazily joined matrix `--target onnxruntime` multiplies q, k and v by at once.
@Suite struct ConcatenatedTensorTests {
    @Test func partsStreamInOrderAndWidenedPartsJoinStored() throws {
        let a = TensorData.float32([1, 2, 3, 4], shape: [2, 2]), b = TensorData.float32([5, 6], shape: [1, 2])
        let joined = try TensorData.concatenated([a, b])
        #expect(joined.shape == [3, 2])
        #expect(try joined.materialize() == TensorData.float32([1, 2, 3, 4, 5, 6]).materialize())
        // Two float16 tensors in a file, widened as a half-precision checkpoint's are.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("concatenated-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let halfBytes = try TensorData.float32([1, 2, 3, 4, 5, 6]).converted(to: .float16).materialize()
        try Data(halfBytes).write(to: URL(fileURLWithPath: path))
        let halves = try [(0, 2), (8, 1)].map { offset, rows in
            try TensorData.file(FileRegion(path: path, offset: offset, length: rows * 4), dtype: .float16, shape: [rows, 2]).asFloat32()
        }
        let widened = try TensorData.concatenated(halves)
        guard case .transformed(let stored, .convert) = widened.storage else { Issue.record("not one conversion"); return }
        #expect(stored.dtype == .float16 && stored.shape == [3, 2])
        #expect(try widened.materialize() == joined.materialize())
        #expect(throws: ExportError.self) { try TensorData.concatenated([a, TensorData.float32([1, 2, 3], shape: [1, 3])]) }
        #expect(throws: ExportError.self) { try TensorData.concatenated([]) }
    }
}
