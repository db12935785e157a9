import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// Lowering per opset: native ops appear exactly from the opset that has them, attribute/input
/// forms switch where the spec moved them, and impossible targets are refused.
@Suite struct LoweringTests {
    /// x → LayerNorm → GELU → unsqueeze → softmax(last) → output.
    func sampleGraph() throws -> Graph {
        let b = GraphBuilder(name: "sample")
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 4]))
        let scale = b.literal(.float32([1, 1, 1, 1]))
        let normed = try b.scope("norm") { try b.node(.layerNorm(epsilon: 1e-5), x, scale, nil) }
        let activated = try b.node(.gelu(.none), normed)
        let expanded = try b.unsqueeze(activated, [1])
        let probabilities = try b.node(.softmax(axis: -1), expanded)
        try b.output(probabilities, name: "y")
        return b.graph
    }

    func opTypes(_ opset: Int) throws -> [String] {
        try ModelLowering.lower(try sampleGraph(), opset: opset).graph.nodes.map(\.opType)
    }

    /// T5's float16 guard clamps only float16 values, with ops every opset has for float16.
    @Test(arguments: [11, 17, 24])
    func saturateFloat16ClampsOnlyFloat16(opset: Int) throws {
        func lowered(_ dtype: DataType) throws -> [String] {
            let b = GraphBuilder(name: "saturate")
            let x = b.input("x", TensorType(dtype, [.batchSize, 4]))
            try b.output(try b.node(.saturateFloat16, x), name: "y")
            return try ModelLowering.lower(b.graph, opset: opset).graph.nodes.map(\.opType)
        }
        #expect(try lowered(.float16) == ["Abs", "Equal", "Cast", "ReduceMax", "Greater", "Where", "Neg", "Max", "Min"])
        #expect(try lowered(.float32) == ["Identity"])
        #expect(try lowered(.bfloat16) == ["Identity"])
    }

    @Test func layerNormIsNativeFromOpset17() throws {
        #expect(try opTypes(16).contains("LayerNormalization") == false)
        #expect(try opTypes(16).contains("ReduceMean"))
        #expect(try opTypes(17).contains("LayerNormalization"))
        #expect(try opTypes(17).contains("ReduceMean") == false)
    }

    @Test func geluIsNativeFromOpset20() throws {
        #expect(try opTypes(19).contains("Gelu") == false)
        #expect(try opTypes(19).contains("Erf"))
        #expect(try opTypes(20).contains("Gelu"))
    }

    @Test func axesMoveFromAttributeToInput() throws {
        let at11 = try ModelLowering.lower(try sampleGraph(), opset: 11).graph.nodes
        let unsqueeze11 = try #require(at11.first { $0.opType == "Unsqueeze" })
        #expect(unsqueeze11.inputs.count == 1)
        #expect(unsqueeze11.attributes.map(\.name) == ["axes"])
        let reduce11 = try #require(at11.first { $0.opType == "ReduceMean" })
        #expect(reduce11.attributes.contains { $0.name == "axes" })

        let at13 = try ModelLowering.lower(try sampleGraph(), opset: 13).graph.nodes
        let unsqueeze13 = try #require(at13.first { $0.opType == "Unsqueeze" })
        #expect(unsqueeze13.inputs.count == 2)
        let reduce13 = try #require(at13.first { $0.opType == "ReduceMean" })
        #expect(reduce13.inputs.count == 1)  // ReduceMean takes axes as an input only from 18
    }

    @Test func irVersionFollowsTheOpset() throws {
        #expect(try ModelLowering.lower(try sampleGraph(), opset: 11).irVersion == 6)
        #expect(try ModelLowering.lower(try sampleGraph(), opset: 17).irVersion == 8)
        #expect(try ModelLowering.lower(try sampleGraph(), opset: 21).irVersion == 10)
        #expect(try ModelLowering.lower(try sampleGraph(), opset: Opsets.newest).irVersion == 13)
    }

    @Test func opsetsOutsideTheRangeAreRefused() throws {
        #expect(throws: ExportError.self) { try ModelLowering.lower(try sampleGraph(), opset: 10) }
        #expect(throws: ExportError.self) { try ModelLowering.lower(try sampleGraph(), opset: Opsets.newest + 1) }
    }

    @Test func softmaxOverAnInnerAxisNeedsOpset13() throws {
        let b = GraphBuilder(name: "s")
        let x = b.input("x", TensorType(.float32, [2, 3, 4]))
        try b.output(try b.node(.softmax(axis: 1), x), name: "y")
        #expect(throws: ExportError.self) { try ModelLowering.lower(b.graph, opset: 11) }
        #expect(try ModelLowering.lower(b.graph, opset: 13).graph.nodes.map(\.opType) == ["Softmax"])
    }

    @Test func sharedConstantsAreWrittenOnce() throws {
        let spec = try ModelLowering.lower(try sampleGraph(), opset: 11)
        let names = spec.graph.initializers.map(\.name)
        #expect(Set(names).count == names.count)
        let halves = spec.graph.initializers.filter { $0.data == .float32([0.5], shape: []) }
        #expect(halves.count == 1)
    }

    @Test func nodeNamesSayWhereTheySit() throws {
        let spec = try ModelLowering.lower(try sampleGraph(), opset: 11)
        #expect(spec.graph.nodes.contains { $0.name == "/norm/LayerNorm/ReduceMean" })
    }
}

/// `a · bᵀ` for weights kept as stored: Gemm(transB) on rows, reshaped back to `a`'s axes.
@Suite struct MatMulTransposedLoweringTests {
    func lowered(rank: Int) throws -> [ONNXNodeSpec] {
        let b = GraphBuilder(name: "head")
        let shape: [Dim] = rank == 3 ? [.batchSize, .sequenceLength, 4] : [.batchSize, 4]
        let x = b.input("x", TensorType(.float32, shape))
        let table = b.literal(.float32(Array(repeating: 0.5, count: 24), shape: [6, 4]))
        let y = try b.matMulTransposed(x, table)
        #expect(b.graph.type(of: y).shape == shape.dropLast() + [.fixed(6)])
        try b.output(y, name: "logits")
        return try ModelLowering.lower(b.graph, opset: 17).graph.nodes
    }

    @Test func twoDimensionalInputIsOneGemm() throws {
        let nodes = try lowered(rank: 2)
        #expect(nodes.map(\.opType) == ["Gemm"])
        #expect(nodes[0].attributes.contains { $0.name == "transB" })
    }

    @Test func higherRanksAreFlattenedAndRestored() throws {
        let nodes = try lowered(rank: 3)
        #expect(nodes.map(\.opType).filter { $0 == "Gemm" || $0 == "Reshape" } == ["Reshape", "Gemm", "Reshape"])
        #expect(nodes.last?.outputs == ["logits"])
    }

    @Test func innerDimensionsMustAgree() throws {
        let b = GraphBuilder(name: "bad")
        let x = b.input("x", TensorType(.float32, [.batchSize, 5]))
        let table = b.literal(.float32(Array(repeating: 0, count: 24), shape: [6, 4]))
        #expect(throws: ExportError.self) { try b.matMulTransposed(x, table) }
    }
}

/// Native attention's mask: onnxruntime's Attention (23, 24) reads float32's lowest as −∞ and
/// zeroes a fully masked row, so a float32 mask is clipped one ulp above it.
@Suite struct NativeAttentionMaskTests {
    @Test func float32MaskIsClippedAboveTheLowest() throws {
        let b = GraphBuilder(name: "attention")
        let q = b.input("q", TensorType(.float32, [.batchSize, 2, .sequenceLength, 4]))
        let mask = b.input("mask", TensorType(.float32, [.batchSize, 2, .sequenceLength, .sequenceLength]))
        try b.output(try b.node(.headAttention(scale: 1), q, q, q, mask), name: "y")
        let nodes = try ModelLowering.lower(b.graph, opset: 23).graph.nodes
        let clip = try #require(nodes.first { $0.opType == "Max" })
        let attention = try #require(nodes.first { $0.opType == "Attention" })
        #expect(clip.inputs.first == "mask")
        #expect(attention.inputs.last == clip.outputs.first)
        #expect(try ModelLowering.lower(b.graph, opset: 21).graph.nodes.contains { $0.opType == "Max" } == false)
    }

    @Test func gatherElementsAndConvolutionLowerWithTheirAttributes() throws {
        let b = GraphBuilder(name: "ops")
        let x = b.input("x", TensorType(.float32, [.batchSize, 4, .sequenceLength]))
        let w = b.literal(.float32(Array(repeating: 0, count: 4 * 2 * 3), shape: [4, 2, 3]))
        let y = try b.node(.conv1D(padding: 1, groups: 2), x, w, nil)
        let index = b.input("index", TensorType(.int64, [.batchSize, 4, .sequenceLength]))
        try b.output(try b.node(.gatherElements(axis: 2), y, index), name: "z")
        let nodes = try ModelLowering.lower(b.graph, opset: 11).graph.nodes
        let conv = try #require(nodes.first { $0.opType == "Conv" })
        #expect(Set(conv.attributes.map(\.name)) == ["pads", "group"])
        let gather = try #require(nodes.first { $0.opType == "GatherElements" })
        #expect(gather.attributes.map(\.name) == ["axis"])
    }
}
