import ONNXExportIR

/// The sizes of a T5 model, from its config (as `T5ConfigFile` writes it).
public struct T5Dimensions {
    var vocab, model, inner, feedForward, heads, buckets, encoderLayers, decoderLayers: Int
    var gated, tied: Bool
    var feedForwardProjection: String

    public init(_ c: ConfigReader) throws {
        vocab = try c.positiveInt("vocab_size")
        model = try c.positiveInt("d_model")
        heads = try c.positiveInt("num_heads")
        inner = try c.product([heads, c.positiveInt("d_kv")], of: "num_heads × d_kv")
        feedForward = try c.positiveInt("d_ff")
        buckets = try c.positiveInt("relative_attention_num_buckets")
        encoderLayers = try c.positiveInt("num_layers")
        decoderLayers = try c.positiveInt("num_decoder_layers")
        gated = try c.bool("is_gated_act")
        tied = try c.bool("tie_word_embeddings", default: true)
        feedForwardProjection = try c.string("feed_forward_proj")
    }

    /// The shape (transformers' layout) of a sublayer weight called `weight` (`q`, `wi_0`, ...),
    /// nil when this model has no such weight; `firstSelfAttention`: the first block's self-attention,
    /// the only one with a relative position table.
    func shape(of weight: String, firstSelfAttention: Bool) -> [Int]? {
        switch weight {
        case "q", "k", "v": return [inner, model]
        case "o": return [model, inner]
        case "relative_attention_bias": return firstSelfAttention ? [buckets, heads] : nil
        case "wi": return gated ? nil : [feedForward, model]
        case "wi_0", "wi_1": return gated ? [feedForward, model] : nil
        case "wo": return [model, feedForward]
        default: return nil
        }
    }

    /// The config fields that size a weight of this transformers name, for messages.
    func fields(sizing name: String) -> String {
        let weight = name.split(separator: ".").dropLast().last ?? ""
        switch weight {
        case "q", "k", "v", "o": return "d_model \(model), num_heads × d_kv \(inner)"
        case "relative_attention_bias": return "relative_attention_num_buckets \(buckets), num_heads \(heads)"
        case "wi", "wi_0", "wi_1", "wo": return "d_model \(model), d_ff \(feedForward)"
        case "shared", "lm_head": return "vocab_size \(vocab), d_model \(model)"
        default: return "d_model \(model)"
        }
    }
}

/// A Mesh TensorFlow T5 checkpoint (`model.ckpt-N`) turned into the weights transformers 4's
/// `convert_t5_original_tf_checkpoint_to_pytorch.py` saves (`T5MeshNames`), checked against the
/// config where transformers is lax or fails obscurely:
///
/// - optimizer state is left out as the loader leaves it out (any variable whose last name part
///   holds `_slot_`: Adafactor's `_slot_vr`, `_slot_vc`, `_slot_v`; any with a part `global_step`,
///   `adam_m`, `adam_v`, `AdamWeightDecayOptimizer(_1)`), and reported;
/// - a variable that is none of T5's weights, or a weight the model built from the config lacks
///   (a block past `num_layers`, `decoder/logits/kernel` with tied embeddings, `wi` in a gated
///   model, ...), is refused by name (the loader fails on most, and silently drops the untied head
///   when the config ties it);
/// - a weight the model needs and the checkpoint lacks is refused (the loader leaves it at its
///   random initialisation without a word);
/// - a shape the config does not give is refused, naming the tensor and the config fields;
/// - floating-point variables become float32 (`array.astype(np.float32)`), other types are refused.
public struct T5MeshCheckpoint {
    /// The weights under transformers' names, float32, transposed where the loader transposes.
    public let tensors: [String: TensorData]
    /// What was left out.
    public let notes: [String]

    /// Name parts that mark a variable as optimizer or training state in `load_tf_weights_in_t5`.
    static let trainingStateParts: Set<String> = ["adam_v", "adam_m", "AdamWeightDecayOptimizer", "AdamWeightDecayOptimizer_1", "global_step"]

    static func isTrainingState(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        return parts.contains { trainingStateParts.contains(String($0)) } || (parts.last?.contains("_slot_") ?? false)
    }

    public init(store: WeightStore, config: ConfigReader) throws {
        let origin = store.origin
        let dims = try T5Dimensions(config)
        let state = store.tensors.keys.filter(Self.isTrainingState).sorted()
        let model = WeightStore(origin: origin, tensors: store.tensors.filter { !Self.isTrainingState($0.key) })
        let renamed = try T5MeshNames.table.rename(model)
        if let first = renamed.unmatched.first {
            let more = renamed.unmatched.count > 1 ? " (and \(renamed.unmatched.count - 1) more: \(renamed.unmatched.dropFirst().prefix(3).map { "'\($0)'" }.joined(separator: ", ")))" : ""
            throw ExportError("\(origin): '\(first)'\(more) is not a weight of Mesh TensorFlow's T5 layout (shared/embedding, encoder|decoder/block_NNN/layer_NNN/..., decoder/logits/kernel) nor optimizer state; is this a T5 checkpoint?")
        }
        let rmsNames = renamed.sources.values.contains { $0.contains("/rms_norm/") }
        // Blocks past the checkpoint's tensor count cannot all be there: listing one more than
        // that is enough to find the first one missing.
        let expected = T5MeshNames.expected(dims, norm: rmsNames ? "rms_norm" : "layer_norm", finalNorm: rmsNames ? "rms_norm" : "final_layer_norm",
                                            maxBlocks: renamed.store.tensors.count + 1)
        let wanted = Set(expected.map(\.rule.transformers))

        for (target, source) in renamed.sources.sorted(by: { $0.value < $1.value }) where !wanted.contains(target) {
            throw ExportError("\(origin): '\(source)' would be \(target), which T5ForConditionalGeneration built from the config does not have: "
                + Self.why(target, dims))
        }
        let missing = expected.filter { renamed.store.tensors[$0.rule.transformers] == nil }
        if let first = missing.first {
            let capped = max(dims.encoderLayers, dims.decoderLayers) > renamed.store.tensors.count + 1
            let more = capped ? " (and more)" : missing.count > 1 ? " (and \(missing.count - 1) more)" : ""
            let hint = first.rule.transformers == "lm_head.weight"
                ? "; the config unties the output layer from the embedding (tie_word_embeddings false), which T5 v1.0 checkpoints, having no decoder/logits/kernel, need true"
                : ""
            throw ExportError("\(origin): '\(first.rule.original)'\(more) is missing: the model needs it as \(first.rule.transformers) (transformers 4's loader would leave it randomly initialised)\(hint)")
        }

        var tensors: [String: TensorData] = [:]
        for (rule, shape) in expected {
            // Every expected name was checked present above; a gap is still an error, not a trap.
            guard let tensor = renamed.store.tensors[rule.transformers], let source = renamed.sources[rule.transformers] else {
                throw ExportError("\(origin): the model needs \(rule.transformers) (from '\(rule.original)'), which the checkpoint does not hold")
            }
            guard tensor.shape == shape else {
                let stored = rule.change == .transpose ? Array(shape.reversed()) : shape
                let original = rule.change == .transpose ? Array(tensor.shape.reversed()) : tensor.shape
                throw ExportError("\(origin): '\(source)' has shape \(original) but the config (\(dims.fields(sizing: rule.transformers))) gives \(stored), \(rule.transformers) \(shape) in transformers' layout")
            }
            guard tensor.dtype.isFloatingPoint else {
                throw ExportError("\(origin): '\(source)' holds \(tensor.dtype) values; T5 weights are floating point")
            }
            tensors[rule.transformers] = try tensor.asFloat32()
        }
        self.tensors = tensors
        notes = Self.notes(leftOut: state)
    }

    /// Why a weight the table maps is not one of the model's.
    static func why(_ target: String, _ d: T5Dimensions) -> String {
        let parts = target.split(separator: ".")
        if target == "lm_head.weight" {
            return "it is an untied output layer (T5 v1.1, mT5) but the config ties the output layer to the embedding (tie_word_embeddings is true, t5's default); set \"tie_word_embeddings\": false (transformers 4 would silently drop this layer)"
        }
        if parts.count > 2, parts[1] == "block", let block = Int(parts[2]) {
            let (field, count) = parts[0] == "encoder" ? ("num_layers", d.encoderLayers) : ("num_decoder_layers", d.decoderLayers)
            if block >= count { return "the config's \(field) is \(count)" }
        }
        if target.hasSuffix("relative_attention_bias.weight") {
            return "transformers' T5 has a relative_attention_bias in the first block's SelfAttention only"
        }
        if target.contains(".DenseReluDense.wi") {
            return d.gated ? "feed_forward_proj \"\(d.feedForwardProjection)\" is gated: its weights are DenseReluDense/wi_0 and wi_1"
                : "feed_forward_proj \"\(d.feedForwardProjection)\" is not gated: its weight is DenseReluDense/wi (wi_0 and wi_1 belong to gated-gelu models, T5 v1.1)"
        }
        return "no such sublayer in a T5 block (the encoder's layer_000 is SelfAttention and layer_001 DenseReluDense; the decoder's are SelfAttention, EncDecAttention, DenseReluDense)"
    }

    static func notes(leftOut names: [String]) -> [String] {
        let slots = names.filter { $0.split(separator: "/").last?.contains("_slot_") ?? false }
        var notes: [String] = []
        if !slots.isEmpty { notes.append("left out \(slots.count) optimizer slot variables (Adafactor's *_slot_vr, *_slot_vc, *_slot_v)") }
        let other = names.filter { !slots.contains($0) }
        if !other.isEmpty { notes.append("left out training state: \(other.prefix(8).joined(separator: ", "))" + (other.count > 8 ? ", ... (\(other.count))" : "")) }
        return notes
    }
}
