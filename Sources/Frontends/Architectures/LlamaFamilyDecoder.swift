import ONNXExportIR

/// What sets one LLaMA-style architecture apart from another; everything else is shared.
public struct LlamaVariant: Sendable {
    /// `self_attn.qkv_proj` (Phi-3) instead of separate q/k/v projections.
    public var fusedQKV = false
    /// `mlp.gate_up_proj` (Phi-3) instead of separate gate/up projections.
    public var fusedGateUp = false
    /// RMSNorm on each query and key head before the rotary embedding (Qwen3).
    public var headNorms = false
    /// RMSNorm scale is `1 + weight` (Gemma).
    public var normPlusOne = false
    /// Embeddings multiplied by √hidden_size (Gemma).
    public var scaledEmbeddings = false
    /// `hidden_act` values that mean something else (Gemma's legacy "gelu" is the tanh form).
    public var activationAliases: [String: Activation] = [:]
    public var defaultActivation = "silu"
    public var defaultTiedEmbeddings = false
    /// Config-class defaults for keys a config may leave out (nil: derived, e.g. heads or hidden/heads).
    public var defaultKeyValueHeads: Int? = nil
    public var defaultHeadSize: Int? = nil
    public var defaultSlidingWindow: Int? = nil
    /// How sliding-window attention is configured: never, every layer (Mistral, Phi-3), or per
    /// `layer_types` when `use_sliding_window` is set (Qwen2/3).
    public enum SlidingWindow: Sendable { case none, allLayers, layerTypes }
    public var slidingWindow: SlidingWindow = .none
    /// How the config class reads rope scaling (Phi-3's longrope spellings and original length).
    public var rope = RopeConventions()
}

/// The decoder shared by LLaMA, Mistral, Qwen2, Qwen3, Phi-3 and Gemma (transformers
/// `modeling_llama.py` and its descendants): embeddings, pre-RMSNorm layers with rotary
/// grouped-query attention (biases wherever the checkpoint has them) and a gated MLP, a final
/// norm, and `lm_head` (or the tied embeddings). Every projection keeps its checkpoint layout
/// (`Gemm(transB)`): these models run to many gigabytes, and untransposed weights go file to file.
public struct LlamaFamilyDecoder: DecoderModel {
    let variant: LlamaVariant
    let w: Weights
    let root: Weights
    let hiddenSize: Int
    let shape: AttentionShape
    let activation: Activation
    let epsilon: Double
    let rope: RotaryConfig
    let tied: Bool
    let slidingLayers: Set<Int>
    public let layerCount: Int
    /// Keys further back than this are not attended on `slidingLayers` (Mistral-style window).
    let slidingWindow: Int?
    public let padTokenID: Int?
    /// `max_position_embeddings`: the rows of `GroupQueryAttention`'s rotary tables.
    let contextLength: Int?

    public init(_ c: ConfigReader, _ store: WeightStore, variant: LlamaVariant) throws {
        self.variant = variant
        hiddenSize = try c.positiveInt("hidden_size")
        layerCount = try c.positiveInt("num_hidden_layers")
        root = Weights(store)
        w = root.base(["model", ""], probe: "embed_tokens.weight")
        try w.scope("layers").requireNumberedScopes(layerCount, holding: "self_attn.o_proj.weight", configField: "num_hidden_layers")
        let heads = try c.positiveInt("num_attention_heads")
        let kvHeads = try c.optionalInt("num_key_value_heads") ?? variant.defaultKeyValueHeads ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw ExportError("\(c.origin): num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
        }
        let headSize = try c.optionalInt("head_dim") ?? variant.defaultHeadSize ?? hiddenSize / heads
        guard headSize > 0 else { throw ExportError("\(c.origin): head_dim must be positive") }
        shape = AttentionShape(heads: heads, keyValueHeads: kvHeads, headSize: headSize, scale: Float(1 / Double(headSize).squareRoot()))
        // Before anything is sized by the head size (the rotary tables): every layer has an
        // o_proj (checked above), and its width bounds heads × head_dim by a real tensor.
        try Self.requireConfigShapes(c, w, root, variant: variant, hidden: hiddenSize, shape: shape, layers: layerCount)
        let act = try c.string("hidden_act", default: variant.defaultActivation)
        activation = try variant.activationAliases[act] ?? Activation(configValue: act, origin: c.origin, key: "hidden_act")
        epsilon = try c.double("rms_norm_eps", default: 1e-6)
        rope = try RotaryConfig(c, headSize: headSize, conventions: variant.rope)
        tied = try c.bool("tie_word_embeddings", default: variant.defaultTiedEmbeddings)
        padTokenID = try c.optionalInt("pad_token_id")
        contextLength = try c.optionalInt("max_position_embeddings")
        if try c.bool("use_bidirectional_attention", default: false) {
            throw ExportError("\(c.origin): use_bidirectional_attention is not supported")
        }
        // A missing key takes the class default; an explicit null means no window.
        let window = c.fields["sliding_window"] == nil ? variant.defaultSlidingWindow : try c.optionalInt("sliding_window")
        switch variant.slidingWindow {
        case .none:
            slidingWindow = nil
            slidingLayers = []
        case .allLayers:
            slidingWindow = window
            slidingLayers = window == nil ? [] : Set(0..<layerCount)
        case .layerTypes:
            let enabled = try c.bool("use_sliding_window", default: false)
            slidingWindow = enabled ? window : nil
            slidingLayers = try Self.slidingLayers(c, layers: layerCount, window: slidingWindow)
        }
    }

    /// Qwen2/3's windowed layers, as their config classes decide: `layer_types` when the config
    /// lists them (transformers 5 writes it, and it wins over the rule), else every layer from
    /// `max_window_layers` on when a window is on. A layer listed as sliding with no window
    /// (`use_sliding_window` false or `sliding_window` null) is refused, as transformers refuses it.
    private static func slidingLayers(_ c: ConfigReader, layers: Int, window: Int?) throws -> Set<Int> {
        guard let types = try c.optionalStrings("layer_types") else {
            let maxWindowLayers = try c.int("max_window_layers", default: 28)
            return window == nil ? [] : Set((0..<layers).filter { $0 >= maxWindowLayers })
        }
        guard types.count == layers else {
            throw ExportError("\(c.origin): layer_types has \(types.count) entries, num_hidden_layers is \(layers)")
        }
        var sliding = Set<Int>()
        for (i, type) in types.enumerated() {
            switch type {
            case "full_attention", "attention": continue
            case "sliding_attention": sliding.insert(i)
            default: throw ExportError("\(c.origin): layer_types[\(i)] '\(type)' is not supported (full_attention or sliding_attention)")
            }
        }
        if !sliding.isEmpty && window == nil {
            throw ExportError("\(c.origin): layer_types has sliding_attention layers but no window is set "
                + "(use_sliding_window is false or sliding_window is null)")
        }
        return sliding
    }

    /// The embedding table and every layer's projections (`[out, in]`) as the config gives them;
    /// `vocab_size` and `intermediate_size` are checked where the config states them.
    private static func requireConfigShapes(_ c: ConfigReader, _ w: Weights, _ root: Weights, variant: LlamaVariant,
                                            hidden: Int, shape: AttentionShape, layers: Int) throws {
        let vocab = try c.optionalInt("vocab_size"), intermediate = try c.optionalInt("intermediate_size")
        let q = try c.product([shape.heads, shape.headSize], of: "num_attention_heads × head_dim")
        let kv = try c.product([shape.keyValueHeads, shape.headSize], of: "num_key_value_heads × head_dim")
        let qkv = try c.sum([q, kv, kv], of: "the fused qkv_proj width")
        let gateUp = try intermediate.map { try c.product([2, $0], of: "the fused gate_up_proj width") }
        let widths = "hidden_size \(hidden), \(shape.heads) heads and \(shape.keyValueHeads) key/value heads of \(shape.headSize)"
            + (intermediate.map { ", intermediate_size \($0)" } ?? "")
        let tableFields = "vocab_size \(vocab.map(String.init) ?? "unset"), hidden_size \(hidden)"
        try w.requireShape("embed_tokens.weight", [vocab, hidden], configFields: tableFields)
        try root.requireShape("lm_head.weight", [vocab, hidden], configFields: tableFields)
        for i in 0..<layers {
            let attention = w.scope("layers.\(i).self_attn"), mlp = w.scope("layers.\(i).mlp")
            if variant.fusedQKV {
                try attention.requireShape("qkv_proj.weight", [qkv, hidden], configFields: widths)
            } else {
                try attention.requireShape("q_proj.weight", [q, hidden], configFields: widths)
                try attention.requireShape("k_proj.weight", [kv, hidden], configFields: widths)
                try attention.requireShape("v_proj.weight", [kv, hidden], configFields: widths)
            }
            try attention.requireShape("o_proj.weight", [hidden, q], configFields: widths)
            if variant.fusedGateUp {
                try mlp.requireShape("gate_up_proj.weight", [gateUp, hidden], configFields: widths)
            } else {
                try mlp.requireShape("gate_proj.weight", [intermediate, hidden], configFields: widths)
                try mlp.requireShape("up_proj.weight", [intermediate, hidden], configFields: widths)
            }
            try mlp.requireShape("down_proj.weight", [hidden, intermediate], configFields: widths)
        }
    }

    public var attentionHeads: Int { shape.heads }
    public var keyValueHeads: Int { shape.keyValueHeads }
    public var modelWidth: Int { hiddenSize }
    public var headSize: Int { shape.headSize }

    public func decode(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> DecoderOutputs {
        let table = try w.value("embed_tokens.weight", rank: 2, in: b)
        var h = try b.scope("embed_tokens") { try b.embed(inputs.inputIDs, table) }
        if variant.scaledEmbeddings {
            h = try b.mul(h, b.scalar(Float(Double(hiddenSize).squareRoot())), name: "EmbeddingScale")
        }
        let rotary = try b.rotaryTables(positionIDs: inputs.positionIDs, rope)
        let fused = try groupQueryAttentionInputs(inputs, b)
        let slidingMask = slidingLayers.isEmpty ? nil :
            try b.causalAttentionMask(attentionMask: inputs.attentionMask, inputIDs: inputs.inputIDs, slidingWindow: slidingWindow)
        var presents: [KeyValue] = []
        for i in 0..<layerCount {
            let layer = w.scope("layers.\(i)")
            let mask = slidingLayers.contains(i) ? (slidingMask ?? inputs.causalMask) : inputs.causalMask
            let (out, present) = try b.scope("layers.\(i)") {
                try decoderLayer(h, layer, mask: mask, rotary: rotary, fused: slidingLayers.contains(i) ? nil : fused,
                                 past: inputs.pastKeyValues?[i], b)
            }
            h = out
            presents.append(present)
        }
        let normed = try b.scope("norm") { try b.rmsNorm(h, w.scope("norm"), epsilon: epsilon, plusOne: variant.normPlusOne) }
        return DecoderOutputs(hidden: normed, presents: presents)
    }

    /// The inputs of onnxruntime's fused attention, where `fusedRope` allows it. Windowed layers
    /// keep the portable attention.
    func groupQueryAttentionInputs(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> GroupQueryAttentionInputs? {
        guard let (table, positions) = fusedRope(for: inputs.target) else { return nil }
        return try b.groupQueryAttentionInputs(attentionMask: inputs.attentionMask, frequencies: table, scaling: rope.attentionScaling,
                                               positions: positions)
    }

    /// The rope's inverse frequencies and the positions of its tables when the graph targets
    /// onnxruntime and the rope is one `GroupQueryAttention` applies itself: a fixed table over the
    /// whole head (dynamic and longrope tables depend on the input's length, partial rotation
    /// leaves channels out), a head size that is a multiple of 16, which onnxruntime's CPU kernel
    /// needs to rotate (real checkpoints have 64, 80, 96, 128 or 256), and a known context length
    /// whose tables stay under 1 GiB each (4 M positions of a 128-wide head): a longer context
    /// keeps the portable attention, whose cost does not grow with it.
    func fusedRope(for target: ExportTarget) -> (frequencies: [Float], positions: Int)? {
        guard target == .onnxruntime, case .fixed(let table) = rope.frequencies, rope.width == shape.headSize, shape.headSize % 16 == 0,
              let positions = contextLength, positions > 0 else { return nil }
        let (bytes, overflow) = positions.multipliedReportingOverflow(by: table.count * MemoryLayout<Float>.size)
        return !overflow && bytes <= 1 << 30 ? (table, positions) : nil
    }

    public func sharesCacheBuffer(for target: ExportTarget) -> Bool { fusedRope(for: target) != nil && slidingLayers.isEmpty }

    func decoderLayer(_ x: Value, _ w: Weights, mask: Value, rotary: (cos: Value, sin: Value), fused: GroupQueryAttentionInputs?,
                      past: KeyValue?, _ b: GraphBuilder) throws -> (Value, KeyValue) {
        let normed = try b.scope("input_layernorm") { try b.rmsNorm(x, w.scope("input_layernorm"), epsilon: epsilon, plusOne: variant.normPlusOne) }
        let attention = w.scope("self_attn")
        let (context, present) = try b.scope("self_attn") {
            if let fused {
                let (q, k, v) = try fusedProjections(normed, attention, b)
                let (context, present) = try b.groupQueryAttention(q: q, k: k, v: v, shape: shape, past: past, inputs: fused)
                return (try project(context, attention, named: "o_proj", b), present)
            }
            let (q, k, v) = try projections(normed, attention, b)
            let headNorm: ((Value, String) throws -> Value)? = variant.headNorms ? { x, name in
                try b.scope(name) { try b.rmsNorm(x, attention.scope(name), epsilon: epsilon, plusOne: variant.normPlusOne) }
            } : nil
            let (context, present) = try b.causalSelfAttention(q: q, k: k, v: v, shape: shape, mask: mask, rotary: rotary,
                                                               past: past, headNorm: headNorm)
            return (try project(context, attention, named: "o_proj", b), present)
        }
        let h = try b.add(x, context, name: "Residual")
        let normed2 = try b.scope("post_attention_layernorm") {
            try b.rmsNorm(h, w.scope("post_attention_layernorm"), epsilon: epsilon, plusOne: variant.normPlusOne)
        }
        let mlp = try b.scope("mlp") { try gatedMLP(normed2, w.scope("mlp"), b) }
        return (try b.add(h, mlp, name: "Residual_1"), present)
    }

    /// What `GroupQueryAttention` reads: the packed `[q | k | v]` product (nil key and value), or,
    /// with Qwen3's head norms or biases on only some of q, k, v, the three apart.
    func fusedProjections(_ x: Value, _ attention: Weights, _ b: GraphBuilder) throws -> (Value, Value?, Value?) {
        if !variant.headNorms, let packed = try packedProjection(x, attention, b) { return (packed, nil, nil) }
        let (q, k, v) = try projections(x, attention, b)
        return (try headNormed(q, attention, "q_norm", heads: shape.heads, b),
                try headNormed(k, attention, "k_norm", heads: shape.keyValueHeads, b), v)
    }

    /// Qwen3's per-head RMSNorm on a `[B, S, heads·D]` projection (the identity for the others).
    func headNormed(_ x: Value, _ attention: Weights, _ name: String, heads: Int, _ b: GraphBuilder) throws -> Value {
        guard variant.headNorms else { return x }
        return try b.scope(name) {
            let split = try b.reshape(x, [0, 0, heads, shape.headSize])
            let normed = try b.rmsNorm(split, attention.scope(name), epsilon: epsilon, plusOne: variant.normPlusOne)
            return try b.reshape(normed, [0, 0, heads * shape.headSize])
        }
    }

    /// One projection (`q_proj`, `down_proj`, `lm_head`, ...) in its checkpoint layout.
    func project(_ x: Value, _ w: Weights, named name: String, _ b: GraphBuilder) throws -> Value {
        try b.linearHead(x, w, named: name, asStored: true)
    }

    func projections(_ x: Value, _ w: Weights, _ b: GraphBuilder) throws -> (Value, Value, Value) {
        let qWidth = shape.heads * shape.headSize, kvWidth = shape.keyValueHeads * shape.headSize
        guard variant.fusedQKV else {
            return (try project(x, w, named: "q_proj", b), try project(x, w, named: "k_proj", b), try project(x, w, named: "v_proj", b))
        }
        let fused = try project(x, w, named: "qkv_proj", b)
        return (try b.columns(fused, 0, qWidth, name: "Query"), try b.columns(fused, qWidth, kvWidth, name: "Key"),
                try b.columns(fused, qWidth + kvWidth, kvWidth, name: "Value"))
    }

    /// `x · [q | k | v]ᵀ` in one product, for the fused attention that reads it packed: Phi-3's
    /// stored `qkv_proj`, or the separate projections joined as they stream (one matrix product
    /// instead of three, as onnxruntime-genai's own graphs do). nil where only some of q, k, v
    /// have a bias, which stay three products.
    func packedProjection(_ x: Value, _ w: Weights, _ b: GraphBuilder) throws -> Value? {
        if variant.fusedQKV { return try project(x, w, named: "qkv_proj", b) }
        let names = ["q_proj", "k_proj", "v_proj"]
        let biased = names.filter { w.has("\($0).bias") }
        guard biased.isEmpty || biased.count == names.count else { return nil }
        return try b.scope("qkv_proj") {
            let weight = try TensorData.concatenated(names.map { try w.tensor("\($0).weight", rank: 2) })
            let product = try b.project(x, weight, name: w.fullName("qkv_proj.weight"), asStored: true)
            guard !biased.isEmpty else { return product }
            let bias = try TensorData.concatenated(names.map { try w.tensor("\($0).bias", rank: 1) })
            return try b.add(product, b.weight(bias, name: w.fullName("qkv_proj.bias")))
        }
    }

    /// `down(act(gate(x)) · up(x))`; Phi-3 stores gate and up as one matrix, gate first.
    func gatedMLP(_ x: Value, _ w: Weights, _ b: GraphBuilder) throws -> Value {
        let gate: Value, up: Value
        if variant.fusedGateUp {
            let fused = try project(x, w, named: "gate_up_proj", b)
            guard let width = b.graph.type(of: fused).shape.last?.fixedValue, width % 2 == 0 else {
                throw ExportError("\(w.store.origin): '\(w.fullName("gate_up_proj.weight"))' must have an even number of rows")
            }
            gate = try b.columns(fused, 0, width / 2, name: "Gate")
            up = try b.columns(fused, width / 2, width / 2, name: "Up")
        } else {
            gate = try project(x, w, named: "gate_proj", b)
            up = try project(x, w, named: "up_proj", b)
        }
        let activated = try b.activation(gate, activation)
        return try project(try b.mul(activated, up, name: "GateTimesUp"), w, named: "down_proj", b)
    }

    public func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        if !tied && !root.has("lm_head.weight") {
            throw ExportError("\(root.store.origin): weight 'lm_head.weight' is missing and tie_word_embeddings is false")
        }
        if tied {
            let table = try w.value("embed_tokens.weight", rank: 2, in: b)
            return try b.scope("lm_head") { try b.tiedProjection(hidden, table: table) }
        }
        return try project(hidden, root, named: "lm_head", b)
    }

    public func scoreHead(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        try project(hidden, root, named: "score", b)
    }
}
