import ArgumentParser
import ONNXExport
import ONNXExportIR

/// `--quantize int4|int8` and the options that only mean something with it, turned into the
/// library's `WeightQuantization`.
struct QuantizationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Store the weights of the matrix products (attention and MLP projections, classifier and LM heads) block-quantized to 4 or 8 bits, as onnxruntime's com.microsoft.MatMulNBits, quantized while they stream. Embeddings, norms and biases stay in --dtype.", valueName: "int4|int8"))
    var quantize: String?

    @Option(name: .customLong("block-size"), help: ArgumentHelp("With --quantize: weights per block along the input axis sharing one scale, a power of two from 16 to 256 (default 32).", valueName: "N"))
    var blockSize: Int?

    @Flag(name: .long, help: "With --quantize: symmetric blocks (scale from the largest magnitude, no zero points stored) instead of asymmetric ones (min/max range, zero points stored).")
    var symmetric = false

    @Option(name: .customLong("accuracy-level"), help: ArgumentHelp("With --quantize: MatMulNBits' accuracy_level, the least precise arithmetic onnxruntime may use: 0 unset, 1 float32, 2 float16, 3 bfloat16, 4 int8 activations (default 4, the fastest on CPU).", valueName: "0-4"))
    var accuracyLevel: Int?

    /// The settings, nil without `--quantize`; the others alone are refused rather than ignored.
    func settings() throws -> WeightQuantization? {
        guard let quantize else {
            if blockSize != nil || symmetric || accuracyLevel != nil {
                throw ValidationError("--block-size, --symmetric and --accuracy-level go with --quantize int4|int8")
            }
            return nil
        }
        do {
            return try WeightQuantization(name: quantize, blockSize: blockSize ?? 32, symmetric: symmetric, accuracyLevel: accuracyLevel ?? 4)
        } catch let error as ExportError {
            throw ValidationError(error.message)
        }
    }
}
