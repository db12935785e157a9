import Foundation
import ONNXExportIR

/// How a weight in an original checkpoint becomes the tensor transformers expects.
public enum LayoutChange: Sendable {
    case none
    /// TF `kernel` `[in, out]` → PyTorch `Linear.weight` `[out, in]`.
    case transpose
    /// Drop size-1 axes (GPT's Conv1D weights saved as `[1, in, out]`).
    case squeeze
}

/// One renaming rule: `{i}` matches a layer number, the same `{i}` is put in the new name.
public struct NameRule: Sendable {
    public var original: String
    public var transformers: String
    public var change: LayoutChange
    public init(_ original: String, _ transformers: String, _ change: LayoutChange = .none) {
        self.original = original; self.transformers = transformers; self.change = change
    }
}

/// Weight names of an original checkpoint layout (Google's BERT, OpenAI's GPT-2, ...) mapped to
/// transformers' names, as data: each architecture file declares its tables, readers stay
/// format-only. Tensors no rule names (optimizer slots, `global_step`) are left out.
public struct NameTable: Sendable {
    public var rules: [NameRule]
    public init(_ rules: [NameRule]) { self.rules = rules }

    /// The store under transformers' names, layouts changed as the rules say.
    /// `label` says whose layout this is, for the error when nothing matches (`bert TensorFlow`).
    public func translate(_ store: WeightStore, label: String = "this architecture's original") throws -> WeightStore {
        // Rules without `{i}` are exact names, looked up directly; the rest are matched as patterns.
        let exact = Dictionary(rules.filter { !$0.original.contains("{i}") }.map { ($0.original, $0) }, uniquingKeysWith: { a, _ in a })
        let compiled = try rules.filter { $0.original.contains("{i}") }.map { rule -> (NSRegularExpression, NameRule) in
            let escaped = NSRegularExpression.escapedPattern(for: rule.original).replacingOccurrences(of: "\\{i\\}", with: "([0-9]+)")
            return (try NSRegularExpression(pattern: "^" + escaped + "$"), rule)
        }
        var out: [String: TensorData] = [:]
        for (name, tensor) in store.tensors.sorted(by: { $0.key < $1.key }) {
            if let rule = exact[name] {
                guard out[rule.transformers] == nil else {
                    throw ExportError("\(store.origin): '\(name)' and another tensor both map to '\(rule.transformers)'")
                }
                out[rule.transformers] = try Self.apply(rule.change, to: tensor, name: name, origin: store.origin)
                continue
            }
            let range = NSRange(name.startIndex..., in: name)
            for (regex, rule) in compiled {
                guard let match = regex.firstMatch(in: name, range: range) else { continue }
                var target = rule.transformers
                if match.numberOfRanges > 1, let r = Range(match.range(at: 1), in: name) {
                    target = target.replacingOccurrences(of: "{i}", with: String(name[r]))
                }
                guard out[target] == nil else {
                    throw ExportError("\(store.origin): '\(name)' and another tensor both map to '\(target)'")
                }
                out[target] = try Self.apply(rule.change, to: tensor, name: name, origin: store.origin)
                break
            }
        }
        guard !out.isEmpty else {
            let example = store.tensors.keys.sorted().first.map { " (e.g. '\($0)')" } ?? ""
            throw ExportError("\(store.origin): none of its \(store.tensors.count) tensors\(example) has a name the \(label) layout uses; is the model type right?")
        }
        return WeightStore(origin: store.origin, tensors: out)
    }

    static func apply(_ change: LayoutChange, to t: TensorData, name: String, origin: String) throws -> TensorData {
        switch change {
        case .none: return t
        case .transpose:
            guard t.shape.count == 2 else { throw ExportError("\(origin): '\(name)' has shape \(t.shape), expected a 2-D kernel") }
            return try t.transposed()
        case .squeeze:
            return TensorData(dtype: t.dtype, shape: t.shape.filter { $0 != 1 }, storage: t.storage)
        }
    }
}
