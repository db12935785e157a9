import ONNXExportIR

/// One weight a converted model needs: the original variable it comes from, the transformers name
/// and layout change (`rule`), the variable's shape in the original layout as the config gives it,
/// and the config fields that size it (for messages). One variable may feed several weights
/// (a per-layer `.row(i)` slice each, or aliases of one shared tensor).
public struct ExpectedWeight {
    public var rule: NameRule
    public var originalShape: [Int]
    public var sizedBy: String

    public init(_ original: String, _ transformers: String, _ change: LayoutChange = .none, shape: [Int], sizedBy: String) {
        rule = NameRule(original, transformers, change)
        originalShape = shape
        self.sizedBy = sizedBy
    }
}

/// An original TensorFlow checkpoint checked against the weights the model built from its config
/// needs (`ExpectedWeight`s) and renamed: what XLNet's and Transformer-XL's conversions share.
///
/// - Optimizer state is left out and reported: Adam's slots (`<var>/Adam`, `<var>/Adam_1`, what
///   `tf.train.AdamOptimizer` saves; `adam_m`/`adam_v` of BERT's AdamWeightDecayOptimizer),
///   `beta1_power`, `beta2_power`, `global_step`.
/// - A variable the model has no place for is refused by name (`unknownHint` may say why), where
///   transformers 4's loaders ignore it without a word.
/// - A weight the checkpoint lacks is refused (`missingHint` may say why), unless `fill` gives it
///   (XLNet's `mask_emb`, absent from fine-tuned graphs), where the loaders leave it at its random
///   initialisation or stop on an assertion.
/// - A shape the config does not give is refused, naming the variable, both shapes and the config
///   fields.
/// - Floating-point variables become float32 (a float32 checkpoint's bytes are copied as they are);
///   other types are refused.
struct OriginalWeights {
    /// The weights under transformers' names, float32.
    var tensors: [String: TensorData] = [:]
    var notes: [String] = []

    static let slotSuffixes: Set<String> = ["Adam", "Adam_1", "adam_m", "adam_v"]
    static let trainingState: Set<String> = ["beta1_power", "beta2_power", "global_step"]

    static func isSlot(_ name: String) -> Bool {
        guard let last = name.split(separator: "/").last, name.contains("/") else { return false }
        return slotSuffixes.contains(String(last))
    }

    static func isTrainingState(_ name: String) -> Bool {
        isSlot(name) || trainingState.contains(String(name.split(separator: "/").last ?? ""))
    }

    /// `store` read against `expected`; `layout` names the original layout and `model` the
    /// transformers class in messages.
    init(store: WeightStore, expected: [ExpectedWeight], layout: String, model: String,
         fill: (ExpectedWeight) -> TensorData? = { _ in nil },
         unknownHint: (String) -> String? = { _ in nil }, missingHint: (ExpectedWeight) -> String? = { _ in nil }) throws {
        let origin = store.origin
        let wanted = Set(expected.map(\.rule.original))
        let unknown = store.tensors.keys.filter { !Self.isTrainingState($0) && !wanted.contains($0) }.sorted()
        if let first = unknown.first(where: { unknownHint($0) != nil }) ?? unknown.first {
            let more = unknown.count > 1
                ? " (and \(unknown.count - 1) more: \(unknown.filter { $0 != first }.prefix(3).map { "'\($0)'" }.joined(separator: ", ")))" : ""
            throw ExportError("\(origin): '\(first)'\(more) is not a weight of \(model) built from the config: "
                + (unknownHint(first) ?? "not a variable of \(layout), nor optimizer state; is the model type right?"))
        }
        for weight in expected {
            let source = weight.rule.original
            guard let stored = store.tensors[source] else {
                if let filled = fill(weight) {
                    tensors[weight.rule.transformers] = filled
                    continue
                }
                throw ExportError("\(origin): '\(source)' is missing: \(model) needs it as \(weight.rule.transformers)"
                    + (missingHint(weight).map { "; \($0)" } ?? ""))
            }
            guard stored.shape == weight.originalShape else {
                throw ExportError("\(origin): '\(source)' has shape \(stored.shape) but the config (\(weight.sizedBy)) gives \(weight.originalShape)"
                    + " for \(weight.rule.transformers)")
            }
            guard stored.dtype.isFloatingPoint else {
                throw ExportError("\(origin): '\(source)' holds \(stored.dtype) values; \(model)'s weights are floating point")
            }
            let changed = try NameTable.apply(weight.rule.change, to: stored, name: source, origin: origin)
            tensors[weight.rule.transformers] = try changed.asFloat32()
        }
        let widened = store.tensors.filter { wanted.contains($0.key) && $0.value.dtype != .float32 }.count
        if widened > 0 { notes.append("\(widened) variables stored in another floating-point type were converted to float32") }
        notes += Self.notes(leftOut: store.tensors.keys.filter(Self.isTrainingState).sorted())
    }

    static func notes(leftOut names: [String]) -> [String] {
        let slots = names.filter(isSlot)
        var notes: [String] = []
        if !slots.isEmpty { notes.append("left out \(slots.count) optimizer slot variables (Adam's moments, */Adam and */Adam_1)") }
        let other = names.filter { !isSlot($0) }
        if !other.isEmpty { notes.append("left out training state: \(other.prefix(8).joined(separator: ", "))" + (other.count > 8 ? ", ... (\(other.count))" : "")) }
        return notes
    }
}
