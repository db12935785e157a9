import ONNXExportIR

/// OpenAI GPT (transformers `modeling_openai.py`, the finetune-transformer-lm model): learned
/// positions, POST-LayerNorm blocks (`ln_1(x + attn)`, `ln_2(n + mlp)`), Conv1D weights, `afn`
/// activation ("gelu" is the tanh form here), no final norm, head tied to `tokens_embed`.
/// transformers has no KV cache for it; the exported cache gives the same logits.
public struct OpenAIGPT: DecoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["openai-gpt"],
                                                tasks: [.featureExtraction, .textGeneration, .textGenerationWithPast, .textClassification]) {
        try OpenAIGPT($0, $1)
    }

    static let activations: [String: Activation] = ["gelu": .geluNew, "relu": .relu, "silu": .silu, "swish": .silu]

    let w: Weights
    let root: Weights
    let heads: Int
    let hiddenSize: Int
    let epsilon: Double
    let activation: Activation
    public let layerCount: Int
    public let padTokenID: Int?

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        hiddenSize = try c.positiveInt("n_embd", default: 768)
        layerCount = try c.positiveInt("n_layer", default: 12)
        heads = try c.positiveInt("n_head", default: 12)
        guard hiddenSize % heads == 0 else { throw ExportError("\(c.origin): n_embd \(hiddenSize) is not a multiple of n_head \(heads)") }
        epsilon = try c.double("layer_norm_epsilon", default: 1e-5)
        let afn = try c.string("afn", default: "gelu")
        guard let a = Self.activations[afn] else {
            throw ExportError("\(c.origin): 'afn' is \"\(afn)\", supported: \(Self.activations.keys.sorted().joined(separator: ", "))")
        }
        activation = a
        padTokenID = try c.optionalInt("pad_token_id")
        root = Weights(store)
        w = root.base(["transformer", ""], probe: "tokens_embed.weight")
    }

    public var keyValueHeads: Int { heads }
    public var headSize: Int { hiddenSize / heads }
    public var slidingWindow: Int? { nil }

    public func decode(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> DecoderOutputs {
        let shape = AttentionShape(heads: heads, keyValueHeads: heads, headSize: headSize, scale: Float(1 / Double(headSize).squareRoot()))
        var h = try b.tokenAndPositionEmbeddings(inputs, tokens: try w.value("tokens_embed.weight", rank: 2, in: b),
                                                 positions: try w.value("positions_embed.weight", rank: 2, in: b))
        var presents: [KeyValue] = []
        for i in 0..<layerCount {
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

    public func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        let table = try w.value("tokens_embed.weight", rank: 2, in: b)
        return try b.scope("lm_head") { try b.tiedProjection(hidden, table: table) }
    }

    public func scoreHead(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        try b.linearHead(hidden, root, named: "score")
    }
}
