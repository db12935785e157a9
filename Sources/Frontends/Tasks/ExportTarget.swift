import ONNXExportIR

/// Which runtime's operators an export may use (`--target`).
public enum ExportTarget: String, CaseIterable, Sendable {
    /// Standard ONNX operators only: any conforming runtime runs the model (the default).
    case portable
    /// Also onnxruntime's fused contrib operators where they are faster: `GroupQueryAttention`
    /// (rotary, cache append and grouped-query attention in one kernel, with the past and present
    /// caches allowed to share one buffer, as onnxruntime-genai runs them) and
    /// `SkipSimplifiedLayerNormalization`. Such graphs take unpadded or right-padded rows.
    case onnxruntime

    public init(name: String) throws {
        guard let target = ExportTarget(rawValue: name) else {
            throw ExportError("unknown target '\(name)': choose \(Self.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        self = target
    }
}
