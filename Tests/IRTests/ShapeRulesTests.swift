import Testing
@testable import ONNXExportIR

@Suite struct ShapeRulesTests {
    let b = GraphBuilder(name: "t")

    @Test func reshapeSplitsAndMergesHeadsKeepingSymbols() throws {
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 12]))
        let split = try b.reshape(x, [0, 0, 3, -1])
        #expect(b.graph.type(of: split).shape == [.batchSize, .sequenceLength, 3, 4])
        let merged = try b.reshape(split, [0, 0, -1])
        #expect(b.graph.type(of: merged).shape == [.batchSize, .sequenceLength, 12])
        let flat = try b.reshape(x, [-1, 12])
        #expect(!b.graph.type(of: flat).shape[0].isKnown)
    }

    @Test func mismatchedMatMulNamesTheNode() throws {
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 8]))
        let w = b.literal(.float32(Array(repeating: 0, count: 12), shape: [3, 4]))
        let error = #expect(throws: ExportError.self) { try b.scope("layer.0") { try b.matMul(x, w) } }
        #expect(error?.message.contains("/layer.0/MatMul") == true)
        #expect(error?.message.contains("inner dimensions") == true)
    }

    @Test func broadcastRefusesDifferentFixedSizes() throws {
        let x = b.input("x", TensorType(.float32, [2, 3]))
        let y = b.input("y", TensorType(.float32, [4, 3]))
        #expect(throws: ExportError.self) { try b.add(x, y) }
        let z = b.input("z", TensorType(.float32, [.batchSize, 1, 1, .sequenceLength]))
        let s = b.input("s", TensorType(.float32, [.batchSize, 4, .sequenceLength, .sequenceLength]))
        #expect(b.graph.type(of: try b.add(s, z)).shape == [.batchSize, 4, .sequenceLength, .sequenceLength])
    }

    @Test func shapeArithmeticKeepsSymbolsThroughSliceAndReshape() throws {
        let ids = b.input("ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let table = b.literal(.float32(Array(repeating: 0, count: 64 * 4), shape: [64, 4]))
        let positions = try b.prefix(table, axis: 0, length: try b.dimension(ids, axis: 1))
        #expect(b.graph.type(of: positions).shape == [.sequenceLength, 4])

        let choices = b.input("c", TensorType(.int64, [.batchSize, .symbol("num_choices"), .sequenceLength]))
        let flat = try b.node(.flatten(axis: 2), choices)
        let scores = try b.node(.gather(axis: 1), try b.cast(flat, to: .float32), b.int64s([0]))
        let target = try b.node(.gather(axis: 0), try b.node(.shape, choices), b.int64s([0, 1]))
        let back = try b.node(.reshapeDynamic, scores, target)
        #expect(b.graph.type(of: back).shape == [.batchSize, .symbol("num_choices")])
    }

    @Test func logSoftmaxKeepsTheTypeAndChecksItsAxis() throws {
        let x = b.input("x", TensorType(.float32, [.batchSize, 3]))
        #expect(b.graph.type(of: try b.node(.logSoftmax(axis: -1), x)) == TensorType(.float32, [.batchSize, 3]))
        let error = #expect(throws: ExportError.self) { try b.node(.logSoftmax(axis: 2), x) }
        #expect(error?.message.contains("LogSoftmax") == true)
    }

    @Test func attentionChecksHeadDivisibility() throws {
        let q = b.input("q", TensorType(.float32, [.batchSize, .sequenceLength, 10]))
        #expect(throws: ExportError.self) { try b.node(.attention(heads: 3, scale: 1), q, q, q) }
        let out = try b.node(.attention(heads: 5, scale: 1), q, q, q)
        #expect(b.graph.type(of: out).shape == [.batchSize, .sequenceLength, 10])
    }
}

@Suite struct ReshapeCountTests {
    @Test func reshapeWithoutAHoleMustKeepTheElementCount() throws {
        let b = GraphBuilder(name: "t")
        let x = b.input("x", TensorType(.float32, [.batchSize, .sequenceLength, 12]))
        #expect(throws: ExportError.self) { try b.reshape(x, [0, 0, 4, 4]) }
        #expect(b.graph.type(of: try b.reshape(x, [0, 0, 4, 3])).shape == [.batchSize, .sequenceLength, 4, 3])
    }
}

/// The ops DeBERTa-v2 added: torch's `gather` along an axis and the 1-D convolution.
@Suite struct GatherElementsAndConvolutionShapeTests {
    let b = GraphBuilder(name: "t")

    @Test func gatherElementsTakesTheIndicesShape() throws {
        let scores = b.input("scores", TensorType(.float32, [.batchSize, 4, .sequenceLength, 16]))
        let index = b.input("index", TensorType(.int64, [.batchSize, 4, .sequenceLength, .sequenceLength]))
        let picked = try b.node(.gatherElements(axis: 3), scores, index)
        #expect(b.graph.type(of: picked) == TensorType(.float32, [.batchSize, 4, .sequenceLength, .sequenceLength]))
        let flat = b.input("flat", TensorType(.int64, [.sequenceLength, .sequenceLength]))
        #expect(throws: ExportError.self) { try b.node(.gatherElements(axis: 3), scores, flat) }
    }

    @Test func convolutionKeepsTheLengthWithSamePadding() throws {
        let x = b.input("x", TensorType(.float32, [.batchSize, 8, .sequenceLength]))
        let w = b.literal(.float32(Array(repeating: 0, count: 8 * 4 * 3), shape: [8, 4, 3]))
        let y = try b.node(.conv1D(padding: 1, groups: 2), x, w, nil)
        #expect(b.graph.type(of: y) == TensorType(.float32, [.batchSize, 8, .sequenceLength]))
        #expect(throws: ExportError.self) { try b.node(.conv1D(padding: 1, groups: 1), x, w, nil) }
    }
}
