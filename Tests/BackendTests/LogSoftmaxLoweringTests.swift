import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// LogSoftmax (Transformer-XL's adaptive softmax): native at every opset over the last axis, an
/// inner axis only from 13 (before, the op flattens at `axis`), in float32 for narrow inputs.
@Suite struct LogSoftmaxLoweringTests {
    func lowered(_ dtype: DataType = .float32, axis: Int = -1, opset: Int) throws -> [ONNXNodeSpec] {
        let b = GraphBuilder(name: "log-softmax")
        let x = b.input("x", TensorType(dtype, [.batchSize, 3, 5]))
        try b.output(try b.node(.logSoftmax(axis: axis), x), name: "y")
        return try ModelLowering.lower(b.graph, opset: opset).graph.nodes
    }

    @Test(arguments: Array(Opsets.oldest...Opsets.newest))
    func lastAxisIsOneNativeNode(opset: Int) throws {
        let nodes = try lowered(opset: opset)
        #expect(nodes.map(\.opType) == ["LogSoftmax"])
        #expect(nodes[0].outputs == ["y"])
    }

    @Test func anInnerAxisNeedsOpset13() throws {
        #expect(throws: ExportError.self) { try lowered(axis: 1, opset: 12) }
        #expect(try lowered(axis: 1, opset: 13).map(\.opType) == ["LogSoftmax"])
    }

    @Test(arguments: [11, 17, Opsets.newest])
    func float16RunsInFloat32(opset: Int) throws {
        let nodes = try lowered(.float16, opset: opset)
        #expect(nodes.map(\.opType) == ["Cast", "LogSoftmax", "Cast"])
        #expect(nodes.last?.outputs == ["y"])
    }
}
