import ONNXExportIR

/// The opsets this exporter targets, and the IR version each is written with.
public enum Opsets {
    /// ONNX opset 11 is the oldest with the Slice/Gather/CumSum forms the frontends need.
    public static let oldest = 11
    /// The newest default-domain opset that both onnx 1.23 (onnx.checker) and onnxruntime 1.32 accept.
    public static let newest = 28
    /// 17 is the first opset with a native LayerNormalization, which runtimes execute as one fused
    /// kernel; it is accepted by every onnxruntime since 1.12 and by most other runtimes.
    public static let `default` = 17

    public static var supported: ClosedRange<Int> { oldest...newest }

    /// onnxruntime's contrib operators (`MatMulNBits`), and the one version of that domain.
    public static let microsoftDomain = "com.microsoft"
    /// Versions of the domains other than the default one that lowered nodes may use.
    public static let domainVersions: [String: Int64] = [microsoftDomain: 1]

    /// `opset_import` for a model: the default domain at `opset`, then each other domain its
    /// nodes use, by name (a portable graph imports nothing else).
    static func imports(opset: Int, nodes: [ONNXNodeSpec]) throws -> [ONNXModelSpec.OpsetImport] {
        let used = Set(nodes.map(\.domain)).subtracting(["", "ai.onnx"]).sorted()
        return try [.init(version: Int64(opset))] + used.map { domain in
            guard let version = domainVersions[domain] else { throw ExportError("no opset version is known for domain '\(domain)'") }
            return .init(domain: domain, version: version)
        }
    }

    /// `ir_version` per opset, from onnx's release table (helper.py `VERSION_TABLE`): the lowest IR
    /// version that can carry the opset, so older runtimes load the file.
    public static func irVersion(for opset: Int) -> Int64 {
        switch opset {
        case ...8: return 3
        case 9: return 4
        case 10: return 5
        case 11: return 6
        case 12...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        case 21...22: return 10
        case 23: return 11
        case 24: return 12
        default: return 13
        }
    }
}
