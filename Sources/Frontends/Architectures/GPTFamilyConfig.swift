import ONNXExportIR

/// What OpenAI GPT and GPT-2 configs share (`n_embd`, `n_layer`, `n_head`,
/// `layer_norm_epsilon`), with the checkpoint's base prefix (`transformer.` in head models).
struct GPTFamilyConfig {
    let hiddenSize: Int
    let layers: Int
    let heads: Int
    let epsilon: Double
    let padTokenID: Int?
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore, tokenTable: String) throws {
        hiddenSize = try c.positiveInt("n_embd", default: 768)
        layers = try c.positiveInt("n_layer", default: 12)
        heads = try c.positiveInt("n_head", default: 12)
        guard hiddenSize % heads == 0 else { throw ExportError("\(c.origin): n_embd \(hiddenSize) is not a multiple of n_head \(heads)") }
        epsilon = try c.double("layer_norm_epsilon", default: 1e-5)
        padTokenID = try c.optionalInt("pad_token_id")
        root = Weights(store)
        w = root.base(["transformer", ""], probe: tokenTable)
    }

    var headSize: Int { hiddenSize / heads }

    /// The tables' rows and every block's Conv1D widths (`[in, out]`) as the config gives them:
    /// `vocab_size` and `n_positions` (with the config class's defaults) and the MLP width: `n_inner`
    /// where the config sets it (GPT-2), else 4 × n_embd.
    func requireConfigShapes(_ c: ConfigReader, tokenTable: String, positionTable: String,
                             defaultVocab: Int, defaultPositions: Int, innerField: String?) throws {
        let inner = try innerField.flatMap { try c.optionalInt($0) } ?? c.product([4, hiddenSize], of: "the MLP width (4 × n_embd)")
        let vocab = try c.positiveInt("vocab_size", default: defaultVocab)
        let positions = try c.positiveInt("n_positions", default: defaultPositions)
        try w.scope("h").requireNumberedScopes(layers, holding: "attn.c_attn.weight", configField: "n_layer")
        let n = hiddenSize
        try w.requireShape(tokenTable, [vocab, n], configFields: "vocab_size \(vocab), n_embd \(n)")
        try w.requireShape(positionTable, [positions, n], configFields: "n_positions \(positions), n_embd \(n)")
        let fused = try c.product([3, n], of: "c_attn's width (3 × n_embd)")
        let widths = "n_embd \(n), MLP width \(inner)"
        for i in 0..<layers {
            let block = w.scope("h.\(i)")
            try block.requireShape("attn.c_attn.weight", [n, fused], configFields: widths)
            try block.requireShape("attn.c_proj.weight", [n, n], configFields: widths)
            try block.requireShape("mlp.c_fc.weight", [n, inner], configFields: widths)
            try block.requireShape("mlp.c_proj.weight", [inner, n], configFields: widths)
        }
    }
}

/// A GPT-family model: multi-head attention (as many key/value heads as query heads), no
/// sliding window, and the language-model head tied to the token embeddings.
protocol GPTFamilyModel: DecoderModel {
    var gpt: GPTFamilyConfig { get }
    /// The token embedding table's name under the base prefix (`wte.weight`, `tokens_embed.weight`).
    static var tokenTable: String { get }
}

extension GPTFamilyModel {
    public var layerCount: Int { gpt.layers }
    public var attentionHeads: Int { gpt.heads }
    public var keyValueHeads: Int { gpt.heads }
    public var modelWidth: Int { gpt.hiddenSize }
    public var headSize: Int { gpt.headSize }
    public var padTokenID: Int? { gpt.padTokenID }

    public func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        let table = try gpt.w.value(Self.tokenTable, rank: 2, in: b)
        return try b.scope("lm_head") { try b.tiedProjection(hidden, table: table) }
    }
}
