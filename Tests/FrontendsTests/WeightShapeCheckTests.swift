import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// The config-against-weights checks architectures run before building a graph: they read shapes
/// only, accept any size where the config says nothing, and stop at the first missing layer.
@Suite struct WeightShapeCheckTests {
    let weights = Weights(WeightStore(origin: "ckpt", tensors: [
        "embed.weight": TensorData(dtype: .float32, shape: [10, 4], storage: .inline([UInt8](repeating: 0, count: 160))),
        "layers.0.proj.weight": TensorData(dtype: .float32, shape: [4, 4], storage: .inline([UInt8](repeating: 0, count: 64))),
        "layers.1.proj.weight": TensorData(dtype: .float32, shape: [4, 4], storage: .inline([UInt8](repeating: 0, count: 64))),
    ]))

    @Test func matchingAndUnconstrainedShapesPass() throws {
        try weights.requireShape("embed.weight", [10, 4], configFields: "vocab_size 10")
        try weights.requireShape("embed.weight", [nil, 4], configFields: "hidden_size 4")
        try weights.requireShape("absent.weight", [1, 2], configFields: "anything")  // missing: the graph reports it
    }

    @Test func aDisagreeingShapeNamesTheTensorAndTheFields() {
        #expect {
            try weights.requireShape("embed.weight", [12, 4], configFields: "vocab_size 12")
        } throws: { error in
            let message = "\(error)"
            return message.contains("'embed.weight' has shape [10, 4]") && message.contains("vocab_size 12")
                && message.contains("[12, 4]")
        }
        #expect(throws: ExportError.self) { try weights.requireShape("embed.weight", [10], configFields: "rank") }
    }

    @Test func configSizeArithmeticIsRefusedOnOverflow() throws {
        let c = ConfigReader(origin: "config.json", fields: [:])
        #expect(try c.product([4, 8], of: "heads × head_dim") == 32)
        #expect(try c.sum([32, 16, 16], of: "qkv") == 64)
        #expect(throws: ExportError.self) { try c.product([4, 1 << 62], of: "heads × head_dim") }
        #expect(throws: ExportError.self) { try c.sum([Int.max, 1], of: "qkv") }
    }

    @Test func layerCountsStopAtTheFirstMissingLayer() throws {
        #expect(weights.scope("layers").numberedScopes(1 << 40, holding: "proj.weight") == [0, 1])
        try weights.scope("layers").requireNumberedScopes(2, holding: "proj.weight", configField: "num_layers")
        #expect {
            try weights.scope("layers").requireNumberedScopes(1 << 62, holding: "proj.weight", configField: "num_layers")
        } throws: { error in
            "\(error)".contains("'layers.2.proj.weight' is missing") && "\(error)".contains("num_layers is 4611686018427387904")
        }
    }
}
