import ONNXExportIR

/// `--quantize int4|int8` and its settings: weight-only, block-wise quantization of the matrix
/// products (`QuantizeWeights`), written as onnxruntime's `com.microsoft.MatMulNBits`.
///
/// ```swift
/// options.quantization = try WeightQuantization(name: "int4", blockSize: 32, accuracyLevel: 4)
/// ```
public struct WeightQuantization: Sendable {
    /// Bits, block size and symmetry.
    public var blocks: BlockQuantization
    /// MatMulNBits' `accuracy_level`: 4 (the default, as onnxruntime-genai's model builder) lets
    /// the runtime quantize activations to int8 per block, the fastest on CPU; 1 computes in
    /// float32 (what a comparison with a float reference wants).
    public var accuracyLevel: Int

    /// Accepts `int4`/`4` and `int8`/`8`; checks the block size and accuracy level.
    public init(name: String, blockSize: Int = 32, symmetric: Bool = false, accuracyLevel: Int = 4) throws {
        let bits: Int
        switch name.lowercased() {
        case "int4", "4": bits = 4
        case "int8", "8": bits = 8
        default: throw ExportError("--quantize must be int4 or int8, not '\(name)'")
        }
        blocks = try BlockQuantization(bits: bits, blockSize: blockSize, symmetric: symmetric)
        try QuantizeWeights.checkAccuracyLevel(accuracyLevel)
        self.accuracyLevel = accuracyLevel
    }
}
