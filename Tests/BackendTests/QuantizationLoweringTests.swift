import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// Block-quantized products lower to onnxruntime's MatMulNBits, and only a model that has one imports its domain.
@Suite struct QuantizationLoweringTests {
    func graph(quantized: Bool) throws -> Graph {
        let b = GraphBuilder(name: "q")
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 20]))
        let w = try TensorData.file(FileRegion(path: "/nonexistent", offset: 0, length: 3 * 20 * 4), dtype: .float32, shape: [3, 20])
        try b.output(try b.matMulTransposed(x, b.weight(w, name: "w")), name: "y")
        if quantized { try QuantizeWeights.run(b.graph, try BlockQuantization(bits: 4, blockSize: 16), accuracyLevel: 4) }
        return b.graph
    }

    @Test(arguments: [11, 17, 28])
    func matMulNBitsIsEmittedWithItsDomain(opset: Int) throws {
        let model = try ModelLowering.lower(try graph(quantized: true), opset: opset)
        #expect(model.opsetImports == [.init(version: Int64(opset)), .init(domain: "com.microsoft", version: 1)])
        let node = try #require(model.graph.nodes.first)
        #expect(model.graph.nodes.count == 1)
        #expect((node.opType, node.domain) == ("MatMulNBits", "com.microsoft"))
        #expect(node.inputs == ["x", "w_Q4", "w_scales", "w_zero_points"])
        var attributes: [String: Int64] = [:]
        for a in node.attributes { if case .int(let v) = a.value { attributes[a.name] = v } }
        #expect(attributes == ["K": 20, "N": 3, "bits": 4, "block_size": 16, "accuracy_level": 4])
        #expect(model.graph.initializers.map(\.data.shape) == [[3, 2, 8], [6], [3]])
    }

    @Test func aPortableGraphImportsOnlyTheDefaultDomain() throws {
        let model = try ModelLowering.lower(try graph(quantized: false), opset: 17)
        #expect(model.opsetImports == [.init(version: 17)])
        #expect(model.graph.nodes.allSatisfy { $0.domain.isEmpty })
    }
}
