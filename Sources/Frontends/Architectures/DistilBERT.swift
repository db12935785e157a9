import ONNXExportIR

/// DistilBERT (transformers `modeling_distilbert.py`): BERT's post-LayerNorm layers under other
/// names (`q_lin`, `sa_layer_norm`, `ffn.lin1`, ...), LayerNorm epsilon fixed at 1e-12, no token
/// types, no pooler; classification is first token → pre_classifier → ReLU → classifier.
public struct DistilBERT: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["distilbert"], tasks: Task.encoderTasks) { try DistilBERT($0, $1) }

    static let epsilon = 1e-12
    let layers: Int
    let shape: EncoderShape
    let dim: Int
    let tied: Bool
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        dim = try c.positiveInt("dim", default: 768)
        layers = try c.positiveInt("n_layers", default: 6)
        let heads = try c.positiveInt("n_heads", default: 12)
        guard dim % heads == 0 else { throw ExportError("\(c.origin): dim \(dim) is not a multiple of n_heads \(heads)") }
        let activation = try Activation(configValue: try c.string("activation", default: "gelu"), origin: c.origin, key: "activation")
        shape = EncoderShape(heads: heads, activation: activation, layerNormEpsilon: Self.epsilon)
        tied = try c.bool("tie_word_embeddings", default: true)
        root = Weights(store)
        w = root.base(["distilbert", ""], probe: "embeddings.word_embeddings.weight")
        let vocab = try c.positiveInt("vocab_size", default: 30522)
        let positions = try c.positiveInt("max_position_embeddings", default: 512)
        try w.requireShape("embeddings.word_embeddings.weight", [vocab, dim], configFields: "vocab_size \(vocab), dim \(dim)")
        try w.requireShape("embeddings.position_embeddings.weight", [positions, dim],
                           configFields: "max_position_embeddings \(positions), dim \(dim)")
        try EncoderLayerNames.distilBert.requireShapes(w.scope("transformer.layer"), count: layers, hidden: dim,
                                                       intermediate: try c.positiveInt("hidden_dim", default: 3072),
                                                       hiddenField: "dim", intermediateField: "hidden_dim")
    }

    public var takesTokenTypeIDs: Bool { false }
    public var hiddenSize: Int { dim }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
        let h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .absolute, epsilon: Self.epsilon, wordTable: words)
        }
        return try b.postNormEncoderStack(h, w.scope("transformer.layer"), scopeName: "transformer", count: layers,
                                          names: .distilBert, shape: shape, attentionMask: inputs.attentionMask)
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
            return try b.maskedLMHead(hidden, dense: root.scope("vocab_transform"), activation: shape.activation,
                                      norm: root.scope("vocab_layer_norm"), epsilon: Self.epsilon,
                                      decoder: root.scope("vocab_projector"), tiedEmbedding: words, bias: nil, tied: tied)
        case .textClassification, .multipleChoice:
            let first = try b.firstToken(hidden)
            let pre = try b.scope("pre_classifier") { try b.node(.relu, try b.linear(first, root.scope("pre_classifier"))) }
            return try b.linearHead(pre, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
