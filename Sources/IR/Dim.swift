/// One axis of a tensor shape: a fixed size, or a linear expression over named symbols
/// (`batch_size`, `sequence_length`, `past_sequence_length + sequence_length`).
///
/// Dynamic axes are declared by the task, never guessed from an example input: a graph input says
/// `[batch_size, sequence_length]` and shape inference carries the symbols through every op.
/// Products of symbols are not representable; an op that would need one yields `.unknown`.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    /// `constant + Σ coefficient·symbol`; `terms` keeps symbols sorted and coefficients non-zero.
    case expr(constant: Int, terms: [Term])
    /// A size nothing in the graph pins down (written as an anonymous dimension).
    case unknown

    public struct Term: Hashable, Sendable {
        public var symbol: String
        public var coefficient: Int
        public init(_ symbol: String, _ coefficient: Int = 1) { self.symbol = symbol; self.coefficient = coefficient }
    }

    public static func fixed(_ n: Int) -> Dim { .expr(constant: n, terms: []) }
    public static func symbol(_ name: String) -> Dim { .expr(constant: 0, terms: [Term(name)]) }

    public static let batchSize = Dim.symbol("batch_size")
    public static let sequenceLength = Dim.symbol("sequence_length")
    public static let pastSequenceLength = Dim.symbol("past_sequence_length")

    /// The size if it is a plain number.
    public var fixedValue: Int? {
        if case .expr(let c, let t) = self, t.isEmpty { return c }
        return nil
    }

    public var isKnown: Bool { if case .unknown = self { return false } else { return true } }

    private static func normalized(_ constant: Int, _ terms: [String: Int]) -> Dim {
        let kept = terms.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { Term($0.key, $0.value) }
        return .expr(constant: constant, terms: kept)
    }

    public static func + (a: Dim, b: Dim) -> Dim {
        guard case .expr(let ca, let ta) = a, case .expr(let cb, let tb) = b else { return .unknown }
        var merged: [String: Int] = [:]
        for t in ta + tb { merged[t.symbol, default: 0] += t.coefficient }
        return normalized(ca + cb, merged)
    }

    public static func - (a: Dim, b: Dim) -> Dim { a + b * -1 }

    public static func * (a: Dim, k: Int) -> Dim {
        guard case .expr(let c, let t) = a else { return .unknown }
        return normalized(c * k, Dictionary(t.map { ($0.symbol, $0.coefficient * k) }, uniquingKeysWith: +))
    }

    /// Product of two dims: exact when at least one side is fixed; two plain symbols make the
    /// symbol of their product (`batch_size*num_choices`, multiple choice's flattened rows), names
    /// sorted so the product commutes; `.unknown` otherwise.
    public static func * (a: Dim, b: Dim) -> Dim {
        if let k = b.fixedValue { return a * k }
        if let k = a.fixedValue { return b * k }
        guard case .expr(0, let ta) = a, case .expr(0, let tb) = b, ta.count == 1, tb.count == 1,
              ta[0].coefficient == 1, tb[0].coefficient == 1 else { return .unknown }
        return .symbol([ta[0].symbol, tb[0].symbol].sorted().joined(separator: "*"))
    }

    /// Exact division when the dim is fixed, or every coefficient is divisible by `k`.
    public func divided(by k: Int) -> Dim {
        guard k != 0, case .expr(let c, let t) = self, c % k == 0, t.allSatisfy({ $0.coefficient % k == 0 }) else {
            return .unknown
        }
        return Dim.normalized(c / k, Dictionary(t.map { ($0.symbol, $0.coefficient / k) }, uniquingKeysWith: +))
    }

    /// The ONNX `dim_param` spelling, e.g. `past_sequence_length + sequence_length`.
    public var description: String {
        switch self {
        case .unknown: return "?"
        case .expr(let c, let terms):
            var parts: [String] = []
            for t in terms {
                let body = t.coefficient == 1 ? t.symbol : (t.coefficient == -1 ? "-\(t.symbol)" : "\(t.coefficient)*\(t.symbol)")
                parts.append(body)
            }
            if c != 0 || parts.isEmpty { parts.append(String(c)) }
            return parts.joined(separator: " + ").replacingOccurrences(of: "+ -", with: "- ")
        }
    }
}

extension Dim: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .fixed(value) }
}

/// Element type plus shape: what shape inference computes for every value.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DataType
    public var shape: [Dim]
    public init(_ dtype: DataType, _ shape: [Dim]) { self.dtype = dtype; self.shape = shape }
    public var rank: Int { shape.count }
    /// Element count when every dim is fixed.
    public var fixedElementCount: Int? {
        var n = 1
        for d in shape { guard let v = d.fixedValue else { return nil }; n *= v }
        return n
    }
    public var description: String { "\(dtype)[\(shape.map(\.description).joined(separator: ", "))]" }
}
