import ONNXExportIR

/// How a weight in an original checkpoint becomes the tensor transformers expects.
public enum LayoutChange: Sendable, Equatable {
    case none
    /// TF `kernel` `[in, out]` → PyTorch `Linear.weight` `[out, in]`.
    case transpose
    /// Drop size-1 axes (GPT's Conv1D weights saved as `[1, in, out]`).
    case squeeze
    /// Entry `i` of the first axis, without that axis: one layer's slice of a variable stacked over
    /// layers (XLNet's and Transformer-XL's `r_w_bias` `[n_layer, n_head, d_head]`).
    case row(Int)

    /// The shape a tensor of `shape` has after this change (nil where it cannot apply).
    public func shape(after shape: [Int]) -> [Int]? {
        switch self {
        case .none: return shape
        case .transpose: return shape.count == 2 ? [shape[1], shape[0]] : nil
        case .squeeze: return shape.filter { $0 != 1 }
        case .row(let i): return shape.first.map { i >= 0 && i < $0 ? Array(shape.dropFirst()) : nil } ?? nil
        }
    }
}

/// One renaming rule: placeholders such as `{i}` (or several, `{g}` and `{j}`) match numbers in the
/// original name and are put back where the same placeholders stand in the transformers name.
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
    /// Prefixes a layout may put before any of its names: a checkpoint saved from a graph that
    /// loaded a TF-Hub module holds `module/bert/...` where the original release holds
    /// `bert/...`. A name is matched as it is first, then without the prefix.
    public var optionalPrefixes: [String]

    public init(_ rules: [NameRule], optionalPrefixes: [String] = []) {
        self.rules = rules; self.optionalPrefixes = optionalPrefixes
    }

    /// The store under transformers' names, layouts changed as the rules say.
    /// `label` says whose layout this is, for the error when nothing matches (`bert TensorFlow`).
    public func translate(_ store: WeightStore, label: String = "this architecture's original") throws -> WeightStore {
        let renamed = try rename(store)
        guard !renamed.store.tensors.isEmpty else {
            let example = store.tensors.keys.sorted().first.map { " (e.g. '\($0)')" } ?? ""
            throw ExportError("\(store.origin): none of its \(store.tensors.count) tensors\(example) has a name the \(label) layout uses; is the model type right?")
        }
        return renamed.store
    }

    /// A store renamed by the table, with where each tensor came from and what no rule names.
    public struct Renamed {
        /// The tensors under transformers' names, layouts changed.
        public var store: WeightStore
        /// Transformers name → the original name it was read from.
        public var sources: [String: String]
        /// Original names no rule matched, sorted.
        public var unmatched: [String]
    }

    /// Every tensor a rule names, renamed and its layout changed; two originals that map to the
    /// same name are refused. Names no rule matches are listed, for callers that refuse them.
    public func rename(_ store: WeightStore) throws -> Renamed {
        let compiled = try rules.map(NamePattern.init)
        // Exact names are looked up directly; the rest are matched as patterns, in table order.
        let exact = Dictionary(compiled.filter(\.isExact).map { ($0.rule.original, $0.rule) }, uniquingKeysWith: { a, _ in a })
        let patterns = compiled.filter { !$0.isExact }

        func match(_ name: String) -> (target: String, rule: NameRule)? {
            let unprefixed = optionalPrefixes.filter { name.hasPrefix($0) }.map { String(name.dropFirst($0.count)) }
            for candidate in [name] + unprefixed {
                if let rule = exact[candidate] { return (rule.transformers, rule) }
                for pattern in patterns {
                    if let target = pattern.target(for: candidate) { return (target, pattern.rule) }
                }
            }
            return nil
        }

        var out: [String: TensorData] = [:]
        var source: [String: String] = [:]
        var unmatched: [String] = []
        for (name, tensor) in store.tensors.sorted(by: { $0.key < $1.key }) {
            guard let (target, rule) = match(name) else { unmatched.append(name); continue }
            if let other = source[target] {
                throw ExportError("\(store.origin): '\(other)' and '\(name)' both map to '\(target)'")
            }
            source[target] = name
            out[target] = try Self.apply(rule.change, to: tensor, name: name, origin: store.origin)
        }
        return Renamed(store: WeightStore(origin: store.origin, tensors: out), sources: source, unmatched: unmatched)
    }

    static func apply(_ change: LayoutChange, to t: TensorData, name: String, origin: String) throws -> TensorData {
        switch change {
        case .none: return t
        case .transpose:
            guard t.shape.count == 2 else { throw ExportError("\(origin): '\(name)' has shape \(t.shape), expected a 2-D kernel") }
            return try t.transposed()
        case .squeeze:
            return TensorData(dtype: t.dtype, shape: t.shape.filter { $0 != 1 }, storage: t.storage)
        case .row(let i):
            guard let first = t.shape.first, i >= 0, i < first else {
                throw ExportError("\(origin): '\(name)' has shape \(t.shape), which has no entry \(i) on its first axis")
            }
            let slice = try t.rows(i, 1)
            return TensorData(dtype: slice.dtype, shape: Array(t.shape.dropFirst()), storage: slice.storage)
        }
    }
}
