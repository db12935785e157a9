import ONNXExportIR

/// GPT-2 (transformers `modeling_gpt2.py`): learned positions, pre-LayerNorm blocks with Conv1D
/// weights and a fused `c_attn`, `activation_function` (tanh GELU by default), a final `ln_f`,
/// and the head tied to `wte`. `scale_attn_by_inverse_layer_idx` divides layer i's scores by i+1.
public struct GPT2: GPTFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["gpt2"], tasks: Task.decoderTasks, make: { try GPT2($0, $1) },
                                                originalNames: [.tensorflow: openAINames])

    /// OpenAI's original GPT-2 TensorFlow checkpoint (`model.ckpt`): Conv1D weights saved as
    /// `[1, in, out]` (transformers keeps `[in, out]`), LayerNorm as g/b.
    static let openAINames = NameTable([
        NameRule("model/wte", "wte.weight"),
        NameRule("model/wpe", "wpe.weight"),
        NameRule("model/h{i}/ln_1/g", "h.{i}.ln_1.weight"),
        NameRule("model/h{i}/ln_1/b", "h.{i}.ln_1.bias"),
        NameRule("model/h{i}/attn/c_attn/w", "h.{i}.attn.c_attn.weight", .squeeze),
        NameRule("model/h{i}/attn/c_attn/b", "h.{i}.attn.c_attn.bias"),
        NameRule("model/h{i}/attn/c_proj/w", "h.{i}.attn.c_proj.weight", .squeeze),
        NameRule("model/h{i}/attn/c_proj/b", "h.{i}.attn.c_proj.bias"),
        NameRule("model/h{i}/ln_2/g", "h.{i}.ln_2.weight"),
        NameRule("model/h{i}/ln_2/b", "h.{i}.ln_2.bias"),
        NameRule("model/h{i}/mlp/c_fc/w", "h.{i}.mlp.c_fc.weight", .squeeze),
        NameRule("model/h{i}/mlp/c_fc/b", "h.{i}.mlp.c_fc.bias"),
        NameRule("model/h{i}/mlp/c_proj/w", "h.{i}.mlp.c_proj.weight", .squeeze),
        NameRule("model/h{i}/mlp/c_proj/b", "h.{i}.mlp.c_proj.bias"),
        NameRule("model/ln_f/g", "ln_f.weight"),
        NameRule("model/ln_f/b", "ln_f.bias"),
    ])

    static let tokenTable = "wte.weight"
    let gpt: GPTFamilyConfig
    let activation: Activation
    let scaleWeights: Bool
    let scaleByLayer: Bool

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        gpt = try GPTFamilyConfig(c, store, tokenTable: Self.tokenTable)
        activation = try Activation(configValue: try c.string("activation_function", default: "gelu_new"), origin: c.origin, key: "activation_function")
        scaleWeights = try c.bool("scale_attn_weights", default: true)
        scaleByLayer = try c.bool("scale_attn_by_inverse_layer_idx", default: false)
        try gpt.requireConfigShapes(c, tokenTable: Self.tokenTable, positionTable: "wpe.weight", defaultVocab: 50257,
                                    defaultPositions: 1024, innerField: "n_inner")
    }

    func attentionShape(layer: Int) -> AttentionShape {
        var scale: Float = 1
        if scaleWeights { scale = Float(1 / Double(headSize).squareRoot()) }
        if scaleByLayer { scale /= Float(layer + 1) }
        return AttentionShape(heads: gpt.heads, keyValueHeads: gpt.heads, headSize: headSize, scale: scale)
    }

    public func decode(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> DecoderOutputs {
        let w = gpt.w, epsilon = gpt.epsilon
        var h = try b.tokenAndPositionEmbeddings(inputs, tokens: try w.value("wte.weight", rank: 2, in: b),
                                                 positions: try w.value("wpe.weight", rank: 2, in: b))
        var presents: [KeyValue] = []
        for i in 0..<gpt.layers {
            let layer = w.scope("h.\(i)")
            h = try b.scope("h.\(i)") {
                let normed = try b.scope("ln_1") { try b.layerNorm(h, layer.scope("ln_1"), epsilon: epsilon) }
                let (attended, present) = try b.scope("attn") {
                    try b.gptAttention(normed, layer.scope("attn"), shape: attentionShape(layer: i), mask: inputs.causalMask,
                                       past: inputs.pastKeyValues?[i])
                }
                presents.append(present)
                let h1 = try b.add(attended, h, name: "Residual")
                let normed2 = try b.scope("ln_2") { try b.layerNorm(h1, layer.scope("ln_2"), epsilon: epsilon) }
                let mlp = try b.scope("mlp") { try b.gptMLP(normed2, layer.scope("mlp"), activation: activation) }
                return try b.add(h1, mlp, name: "Residual_1")
            }
        }
        let normed = try b.scope("ln_f") { try b.layerNorm(h, w.scope("ln_f"), epsilon: epsilon) }
        return DecoderOutputs(hidden: normed, presents: presents)
    }

    /// `score` (no bias) for sequence classification, `classifier` for token classification.
    public func scoreHead(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        try b.linearHead(hidden, gpt.root, named: task == .textClassification ? "score" : "classifier")
    }
}
