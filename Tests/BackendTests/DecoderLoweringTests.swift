import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// Decoder ops: the decompositions below opset 23 and the native ONNX ops from 23.
@Suite struct DecoderLoweringTests {
    /// q/k/v head-split with 4 query heads over 2 key/value heads, rotary on 4 of 6 channels, RMSNorm.
    func decoderGraph() throws -> Graph {
        let b = GraphBuilder(name: "decoder")
        let q = b.input("q", TensorType(.float32, [.batchSize, 4, .sequenceLength, 6]))
        let k = b.input("k", TensorType(.float32, [.batchSize, 2, .pastSequenceLength + .sequenceLength, 6]))
        let cos = b.input("cos", TensorType(.float32, [.batchSize, 1, .sequenceLength, 4]))
        let mask = b.input("mask", TensorType(.float32, [.batchSize, 1, .sequenceLength, .pastSequenceLength + .sequenceLength]))
        let rotated = try b.node(.rotaryEmbedding, q, cos, cos)
        let normed = try b.node(.rmsNorm(epsilon: 1e-6), rotated, b.literal(.float32(Array(repeating: 1, count: 6))))
        let out = try b.node(.headAttention(scale: 0.5), normed, k, k, mask)
        #expect(b.graph.type(of: out).shape == [.batchSize, 4, .sequenceLength, 6])
        try b.output(out, name: "y")
        return b.graph
    }

    func opTypes(_ opset: Int) throws -> [String] {
        try ModelLowering.lower(try decoderGraph(), opset: opset).graph.nodes.map(\.opType)
    }

    @Test func nativeOpsFromOpset23() throws {
        let old = try opTypes(22), new = try opTypes(23)
        for native in ["Attention", "RotaryEmbedding", "RMSNormalization"] {
            #expect(!old.contains(native))
            #expect(new.contains(native))
        }
        #expect(old.contains("Softmax") && !new.contains("Softmax"))
    }

    @Test func groupedQueryAttentionBroadcastsInsteadOfCopying() throws {
        let nodes = try ModelLowering.lower(try decoderGraph(), opset: 17).graph.nodes
        let group = try #require(nodes.first { $0.name.hasSuffix("/GroupQuery") })
        #expect(group.opType == "Reshape")
        #expect(!nodes.contains { $0.opType == "Expand" || $0.opType == "Tile" })
    }

    @Test func partialRotaryPassesTheRestThrough() throws {
        let native = try ModelLowering.lower(try decoderGraph(), opset: 23).graph.nodes
        let rotary = try #require(native.first { $0.opType == "RotaryEmbedding" })
        #expect(rotary.attributes.contains { $0.name == "rotary_embedding_dim" })
        let decomposed = try ModelLowering.lower(try decoderGraph(), opset: 17).graph.nodes
        #expect(decomposed.contains { $0.name.hasSuffix("/SlicePass") })
    }

    @Test func headsMustDivide() throws {
        let b = GraphBuilder(name: "bad")
        let q = b.input("q", TensorType(.float32, [1, 3, 2, 4]))
        let k = b.input("k", TensorType(.float32, [1, 2, 2, 4]))
        #expect(throws: ExportError.self) { try b.node(.headAttention(scale: 1), q, k, k) }
    }
}
