import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// `--target onnxruntime`'s fused ops lower to onnxruntime's contrib operators, with their domain.
@Suite struct RuntimeFusedLoweringTests {
    @Test(arguments: [11, 17, 28])
    func fusedOpsLowerToContribOperators(opset: Int) throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 32]))
        let w = b.weight(try TensorData.file(FileRegion(path: "/nonexistent", offset: 0, length: 128), dtype: .float32, shape: [32]), name: "w")
        let normed = try b.apply(.skipRMSNorm(epsilon: 1e-6), [x, x, w])
        let last = b.input("last", TensorType(.int32, [.batchSize])), total = b.input("total", TensorType(.int32, []))
        let half = TensorType(.float32, [.batchSize, .sequenceLength, 16])
        let kv = b.input("k", half)
        let attention = try b.apply(.groupQueryAttention(heads: 2, keyValueHeads: 1, scale: 0.25, rotary: false),
                                    [normed[0], kv, kv, nil, nil, last, total])
        try b.output(attention[0], name: "context")
        try b.output(normed[1], name: "sum")
        let model = try ModelLowering.lower(b.graph, opset: opset)
        #expect(model.opsetImports == [.init(version: Int64(opset)), .init(domain: "com.microsoft", version: 1)])
        let nodes = model.graph.nodes
        #expect(nodes.map(\.opType) == ["SkipSimplifiedLayerNormalization", "GroupQueryAttention"])
        #expect(nodes.allSatisfy { $0.domain == "com.microsoft" })
        #expect(nodes[0].outputs.count == 4 && nodes[0].outputs[1].isEmpty && nodes[0].outputs[2].isEmpty)
        #expect(nodes[0].outputs[3] == "sum")
        #expect(nodes[1].inputs.count == 7 && nodes[1].inputs[3].isEmpty)
        var attributes: [String: Int64] = [:]
        for a in nodes[1].attributes { if case .int(let v) = a.value { attributes[a.name] = v } }
        #expect(attributes == ["num_heads": 2, "kv_num_heads": 1, "do_rotary": 0, "rotary_interleaved": 0, "local_window_size": -1])
    }
}
