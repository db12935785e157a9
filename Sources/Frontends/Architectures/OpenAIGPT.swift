import ONNXExportIR

/// OpenAI GPT (transformers `modeling_openai.py`, the finetune-transformer-lm model): learned
/// positions, POST-LayerNorm blocks (`ln_1(x + attn)`, `ln_2(n + mlp)`), Conv1D weights, `afn`
/// activation ("gelu" is the tanh form here), no final norm, head tied to `tokens_embed`.
/// transformers has no KV cache for it; the exported cache gives the same logits.
public struct OpenAIGPT: GPTFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["openai-gpt"],
                                                tasks: [.featureExtraction, .textGeneration, .textGenerationWithPast, .textClassification],
                                                make: { try OpenAIGPT($0, $1) }, originalNames: [.openAINumpy: numpyNames])

    /// finetune-transformer-lm's `params_N.npy`, split by `params_shapes.json` into `params.K`:
    /// positions, tokens, then per layer the variables in the order `block()` creates them.
    /// Conv1D weights are saved `[1, in, out]`; transformers squeezes them.
    static let numpyNames: NameTable = {
        let perLayer: [(String, LayoutChange)] = [
            ("attn.c_attn.weight", .squeeze), ("attn.c_attn.bias", .none), ("attn.c_proj.weight", .squeeze), ("attn.c_proj.bias", .none),
            ("ln_1.weight", .none), ("ln_1.bias", .none), ("mlp.c_fc.weight", .squeeze), ("mlp.c_fc.bias", .none),
            ("mlp.c_proj.weight", .squeeze), ("mlp.c_proj.bias", .none), ("ln_2.weight", .none), ("ln_2.bias", .none),
        ]
        var rules = [NameRule("params.0", "positions_embed.weight"), NameRule("params.1", "tokens_embed.weight")]
        for layer in 0..<128 {
            for (k, (name, change)) in perLayer.enumerated() {
                rules.append(NameRule("params.\(2 + layer * perLayer.count + k)", "h.\(layer).\(name)", change))
            }
        }
        return NameTable(rules)
    }()

    static let activations: [String: Activation] = ["gelu": .geluNew, "relu": .relu, "silu": .silu, "swish": .silu]

    static let tokenTable = "tokens_embed.weight"
    let gpt: GPTFamilyConfig
    let activation: Activation

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        gpt = try GPTFamilyConfig(c, store, tokenTable: Self.tokenTable)
        let afn = try c.string("afn", default: "gelu")
        guard let a = Self.activations[afn] else {
            throw ExportError("\(c.origin): 'afn' is \"\(afn)\", supported: \(Self.activations.keys.sorted().joined(separator: ", "))")
        }
        activation = a
        try gpt.requireConfigShapes(c, tokenTable: Self.tokenTable, positionTable: "positions_embed.weight",
                                    defaultVocab: 40478, defaultPositions: 512, innerField: nil)
    }

    public func decode(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> DecoderOutputs {
        let w = gpt.w, epsilon = gpt.epsilon
        let shape = AttentionShape(heads: gpt.heads, keyValueHeads: gpt.heads, headSize: headSize, scale: Float(1 / Double(headSize).squareRoot()))
        var h = try b.tokenAndPositionEmbeddings(inputs, tokens: try w.value("tokens_embed.weight", rank: 2, in: b),
                                                 positions: try w.value("positions_embed.weight", rank: 2, in: b))
        var presents: [KeyValue] = []
        for i in 0..<gpt.layers {
            let layer = w.scope("h.\(i)")
            h = try b.scope("h.\(i)") {
                let (attended, present) = try b.scope("attn") {
                    try b.gptAttention(h, layer.scope("attn"), shape: shape, mask: inputs.causalMask, past: inputs.pastKeyValues?[i])
                }
                presents.append(present)
                let n = try b.scope("ln_1") { try b.layerNorm(try b.add(h, attended), layer.scope("ln_1"), epsilon: epsilon) }
                let m = try b.scope("mlp") { try b.gptMLP(n, layer.scope("mlp"), activation: activation) }
                return try b.scope("ln_2") { try b.layerNorm(try b.add(n, m), layer.scope("ln_2"), epsilon: epsilon) }
            }
        }
        return DecoderOutputs(hidden: h, presents: presents)
    }

    public func scoreHead(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        try b.linearHead(hidden, gpt.root, named: "score")
    }
}
