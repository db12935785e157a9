import ONNXExportFrontends
import ONNXExportIR

/// `--dtype`: the floating-point type an export computes in. A checkpoint saved in float16 or
/// bfloat16 exports to float32 unless asked otherwise; `.checkpoint` keeps whatever type most of
/// its weights were saved in, so they are copied file to file.
public enum ExportPrecision: String, Sendable, CaseIterable {
    case float32, float16, bfloat16
    case checkpoint = "auto"

    /// Accepts `fp32`/`float32`, `fp16`/`float16`/`half`, `bf16`/`bfloat16` and `auto`.
    public init(name: String) throws {
        switch name.lowercased() {
        case "fp32", "float32", "float": self = .float32
        case "fp16", "float16", "half": self = .float16
        case "bf16", "bfloat16": self = .bfloat16
        case "auto", "checkpoint": self = .checkpoint
        default: throw ExportError("--dtype must be fp32, fp16, bf16 or auto, not '\(name)'")
        }
    }

    /// The element type for a checkpoint's weights; checks that the opset has it.
    func dataType(for weights: WeightStore, opset: Int) throws -> DataType {
        let type: DataType
        switch self {
        case .float32: type = .float32
        case .float16: type = .float16
        case .bfloat16: type = .bfloat16
        case .checkpoint: type = Self.storedType(of: weights)
        }
        // Add, MatMul, Softmax... take bfloat16 from opset 13.
        if type == .bfloat16 && opset < 13 {
            throw ExportError("bfloat16 needs opset 13 or newer (asked for \(opset)); choose --opset 13 or later, or --dtype fp16")
        }
        return type
    }

    /// The type holding most of a checkpoint's floating-point bytes (float64 exports to float32).
    static func storedType(of weights: WeightStore) -> DataType {
        var bytes: [DataType: Int] = [:]
        for t in weights.tensors.values where t.dtype.isFloatingPoint { bytes[t.dtype == .float64 ? .float32 : t.dtype, default: 0] += t.byteCount }
        return bytes.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key ?? .float32
    }
}
