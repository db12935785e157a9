import ONNXExportIR

/// The activations transformers names in configs (`hidden_act`, `activation`, `summary_activation`),
/// written with the arithmetic of `transformers/activations.py`.
public enum Activation: String, CaseIterable, Sendable {
    case gelu                              // GELUActivation: exact, erf form
    case geluNew = "gelu_new"              // NewGELUActivation: tanh approximation
    case geluPytorchTanh = "gelu_pytorch_tanh"
    case geluFast = "gelu_fast"            // FastGELUActivation: the tanh form rearranged
    case geluPython = "gelu_python"
    case quickGelu = "quick_gelu"          // x·σ(1.702x)
    case relu
    case silu
    case swish
    case tanh
    case sigmoid
    case mish                              // x·tanh(softplus(x))
    case linear                            // identity

    /// Parses a config value; an unknown name lists the supported ones.
    public init(configValue: String, origin: String, key: String) throws {
        guard let a = Activation(rawValue: configValue) else {
            throw ExportError("\(origin): '\(key)' is \"\(configValue)\", supported activations are \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = a
    }
}

extension GraphBuilder {
    /// Applies `activation` to `x`.
    public func activation(_ x: Value, _ activation: Activation) throws -> Value {
        switch activation {
        case .gelu, .geluPython: return try node(.gelu(.none), x)
        case .geluNew, .geluPytorchTanh, .geluFast: return try node(.gelu(.tanh), x)
        case .quickGelu:
            let gate = try node(.sigmoid, try mul(x, scalar(1.702)))
            return try mul(x, gate, name: "QuickGelu")
        case .relu: return try node(.relu, x)
        case .silu, .swish: return try mul(x, try node(.sigmoid, x), name: "Silu")
        case .tanh: return try node(.tanh, x)
        case .sigmoid: return try node(.sigmoid, x)
        case .mish: return try mul(x, try node(.tanh, try node(.softplus, x)), name: "Mish")
        case .linear: return x
        }
    }
}
