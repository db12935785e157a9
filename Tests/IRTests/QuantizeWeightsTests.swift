import Foundation
import Testing
@testable import ONNXExportIR

/// The pass: which products become block-quantized, from which source, and what stays float.
@Suite struct QuantizeWeightsTests {
    func weight(_ name: String, _ shape: [Int], offset: Int = 0) throws -> TensorData {
        try TensorData.file(FileRegion(path: "/nonexistent/\(name)", offset: offset, length: shape.reduce(1, *) * 4), dtype: .float32, shape: shape)
    }

    /// input_ids → embedding (tied) → linear q ([out, in], transposed while streaming) → Conv1D-style c ([in, out]) →
    /// shared twice → literal product → tied head.
    func graph() throws -> (GraphBuilder, tied: TensorData, linear: TensorData, conv: TensorData, shared: TensorData) {
        let b = GraphBuilder(name: "t")
        let ids = b.input("input_ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let tied = try weight("embed", [40, 32]), linear = try weight("q", [48, 32]), conv = try weight("c", [48, 32]), shared = try weight("s", [32, 32])
        let table = b.weight(tied, name: "embed.weight")
        var h = try b.embed(ids, table)
        h = try b.matMul(h, b.weight(try linear.transposed(), name: "q.weight"))
        h = try b.matMul(h, b.weight(conv, name: "c.weight"))
        let s = b.weight(shared, name: "s.weight")
        h = try b.matMul(try b.matMul(h, s), s)
        h = try b.matMul(h, b.literal(.float32(Array(repeating: 1, count: 32 * 32), shape: [32, 32])))
        try b.output(try b.matMulTransposed(h, table), name: "logits")
        return (b, tied, linear, conv, shared)
    }

    func source(_ data: TensorData?) -> TensorData? {
        guard case .transformed(let base, .blockQuantized)? = data?.storage else { return nil }
        return base
    }

    @Test func checkpointProductsAreQuantizedFromTheirRowsAndLookupsStayFloat() throws {
        let (b, tied, linear, conv, shared) = try graph()
        let g = b.graph
        _ = try PassPipeline.run(g)
        let q = try BlockQuantization(bits: 4, blockSize: 16)
        #expect(try QuantizeWeights.run(g, q, accuracyLevel: 4) == 5)
        try InferShapes.run(g)
        try Verify.run(g)
        #expect(g.nodes.map(\.op.kind) == ["Gather"] + Array(repeating: "BlockQuantizedMatMul", count: 4) + ["MatMul", "BlockQuantizedMatMul"])
        let quantized = g.nodes.filter { $0.op.kind == "BlockQuantizedMatMul" }
        // The source of each: the linear's stored [out, in], the Conv1D matrix transposed, the head's table as stored.
        #expect(source(g[quantized[0].inputs[1]!].constantData) == linear)
        #expect(source(g[quantized[1].inputs[1]!].constantData) == (try conv.transposed()))
        #expect(source(g[quantized[4].inputs[1]!].constantData) == tied)
        // Quantized once though read twice; named after the weight; four inputs when asymmetric.
        #expect(quantized[2].inputs == quantized[3].inputs.map { $0 }.enumerated().map { $0.offset == 0 ? quantized[2].inputs[0] : $0.element })
        #expect(quantized[2].inputs.dropFirst().map { g[$0!].name } == ["s.weight_Q4", "s.weight_scales", "s.weight_zero_points"])
        #expect(source(g[quantized[2].inputs[1]!].constantData) == (try shared.transposed()))
        // The lookup still reads the float table.
        #expect(g[g.nodes[0].inputs[0]!].constantData == tied)
        if case .blockQuantizedMatMul(_, let k, let n, let level) = quantized[4].op {
            #expect((k, n, level) == (32, 40, 4))
        } else { Issue.record("the head is not quantized") }
        #expect(g.type(of: g.outputs[0]) == TensorType(.float32, [.batchSize, .sequenceLength, 40]))
    }

    /// A weight read as stored by one product and transposed by another is two matrices, each quantized once.
    @Test func aWeightReadBothWaysIsTwoMatrices() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [.batchSize, 32]))
        let w = b.weight(try weight("p", [48, 32]), name: "p.weight")
        let down = try b.matMulTransposed(x, w)
        try b.output(try b.matMul(try b.matMul(down, w), b.weight(try weight("q", [32, 32]), name: "q.weight")), name: "y")
        _ = try PassPipeline.run(b.graph)
        #expect(try QuantizeWeights.run(b.graph, try BlockQuantization(bits: 4, blockSize: 16), accuracyLevel: 4) == 3)
        try InferShapes.run(b.graph)
        let shapes = b.graph.nodes.map { b.graph.type(of: $0.inputs[1]!).shape }
        #expect(shapes == [[48, 2, 8], [32, 3, 8], [32, 2, 8]])
    }

    @Test func symmetricProductsTakeNoZeroPoints() throws {
        let (b, _, _, _, _) = try graph()
        _ = try PassPipeline.run(b.graph)
        try QuantizeWeights.run(b.graph, try BlockQuantization(bits: 8, blockSize: 32, symmetric: true), accuracyLevel: 0)
        try InferShapes.run(b.graph)
        #expect(b.graph.nodes.filter { $0.op.kind == "BlockQuantizedMatMul" }.allSatisfy { $0.inputs.count == 3 })
    }

    /// After ReducePrecision the scales are float16 (the activations' type) and the source is still the float32 matrix.
    @Test func float16GraphsGetFloat16ScalesFromTheFloat32Source() throws {
        let (b, tied, linear, _, _) = try graph()
        let g = b.graph
        _ = try PassPipeline.run(g)
        try ReducePrecision.run(g, to: .float16, keepingOutputs: { _ in false })
        try QuantizeWeights.run(g, try BlockQuantization(bits: 4), accuracyLevel: 4)
        try InferShapes.run(g)
        try Verify.run(g)
        let quantized = g.nodes.filter { $0.op.kind == "BlockQuantizedMatMul" }
        #expect(quantized.allSatisfy { g.type(of: $0.inputs[2]!).dtype == .float16 })
        #expect(source(g[quantized[0].inputs[1]!].constantData) == linear)
        #expect(source(g[quantized.last!.inputs[1]!].constantData) == tied)
        #expect(g[g.nodes[0].inputs[0]!].constantData?.dtype == .float16)
    }

    @Test func anUndefinedAccuracyLevelIsRefused() throws {
        let (b, _, _, _, _) = try graph()
        #expect(throws: ExportError.self) { try QuantizeWeights.run(b.graph, try BlockQuantization(bits: 4), accuracyLevel: 5) }
    }

    @Test func shapeRulesCheckTheQuantizedTensors() throws {
        let q = try BlockQuantization(bits: 4, blockSize: 16)
        let op = Op.blockQuantizedMatMul(q, k: 20, n: 3, accuracyLevel: 4)
        func info(_ dtype: DataType, _ shape: [Dim]) -> ValueInfo { ValueInfo(name: "v", type: TensorType(dtype, shape), origin: .input) }
        let a = info(.float32, [.batchSize, 20])
        let packed = info(.uint8, [3, 2, 8]), scales = info(.float32, [6]), zeros = info(.uint8, [3])
        #expect(try ShapeRules.infer(op, [a, packed, scales, zeros], node: "n")[0].type == TensorType(.float32, [.batchSize, 3]))
        #expect(throws: ExportError.self) { try ShapeRules.infer(op, [a, packed, info(.float16, [6]), zeros], node: "n") }
        #expect(throws: ExportError.self) { try ShapeRules.infer(op, [a, info(.uint8, [3, 2, 16]), scales, zeros], node: "n") }
        #expect(throws: ExportError.self) { try ShapeRules.infer(op, [a, packed, scales], node: "n") }
        #expect(throws: ExportError.self) { try ShapeRules.infer(op, [info(.float32, [.batchSize, 21]), packed, scales, zeros], node: "n") }
        let symmetric = Op.blockQuantizedMatMul(try BlockQuantization(bits: 4, blockSize: 16, symmetric: true), k: 20, n: 3, accuracyLevel: 4)
        #expect(throws: ExportError.self) { try ShapeRules.infer(symmetric, [a, packed, scales, zeros], node: "n") }
    }
}
