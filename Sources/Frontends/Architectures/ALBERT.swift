import ONNXExportIR

/// ALBERT (transformers `modeling_albert.py`): BERT's embeddings at width `embedding_size`,
/// mapped to `hidden_size` by `encoder.embedding_hidden_mapping_in`, then `num_hidden_layers`
/// layers that each run one of `num_hidden_groups` groups of `inner_group_num` post-LayerNorm
/// layers. Every layer of a group reads the same tensors, and the graph builder keeps one value
/// per tensor, so the export stores each group once: about the checkpoint's size, not layers × it.
public struct ALBERT: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["albert"], tasks: Task.encoderTasks, make: { try ALBERT($0, $1) },
                                                originalNames: [.tensorflow: googleNames])

    let config: BertFamilyConfig
    let embeddingSize: Int
    let groups: Int
    let innerGroupLayers: Int
    /// The base model (`albert.` in task checkpoints, no prefix in a bare `AlbertModel`).
    let w: Weights
    /// The whole checkpoint, where the heads live (`predictions.`, `classifier.`, `qa_outputs.`).
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        config = try BertFamilyConfig(c, defaults: .albert)
        embeddingSize = try c.positiveInt("embedding_size", default: 128)
        groups = try c.positiveInt("num_hidden_groups", default: 1)
        innerGroupLayers = try c.positiveInt("inner_group_num", default: 1)
        // Every layer reuses a group's weights, so no missing tensor stops an absurd layer count.
        let runs = try c.product([config.layers, innerGroupLayers], of: "num_hidden_layers × inner_group_num")
        guard runs <= Self.maximumLayerRuns else {
            throw ExportError("\(c.origin): num_hidden_layers \(config.layers) × inner_group_num \(innerGroupLayers) is \(runs) layers to run; more than \(Self.maximumLayerRuns) is refused (ALBERT-xxlarge runs 12)")
        }
        root = Weights(store)
        w = root.base(["albert", ""], probe: "embeddings.word_embeddings.weight")
        try requireConfigShapes()
    }

    /// The most layers (num_hidden_layers × inner_group_num) an export builds.
    static let maximumLayerRuns = 4096

    /// The group layer `i` of `num_hidden_layers` runs: transformers' `int(i / (layers / groups))`,
    /// in floating point as there (5 layers in 2 groups: 0, 0, 0, 1, 1); always below `groups`.
    static func group(ofLayer i: Int, layers: Int, groups: Int) -> Int {
        min(Int(Double(i) / (Double(layers) / Double(groups))), groups - 1)
    }

    /// The groups the layers use, each checked against the config's widths.
    private func requireConfigShapes() throws {
        let c = config, e = embeddingSize
        let embeddingFields = "embedding_size \(e)"
        try w.requireShape("embeddings.word_embeddings.weight", [c.vocabSize, e], configFields: "vocab_size \(c.vocabSize), \(embeddingFields)")
        try w.requireShape("embeddings.position_embeddings.weight", [c.maxPositions, e],
                           configFields: "max_position_embeddings \(c.maxPositions), \(embeddingFields)")
        try w.requireShape("embeddings.token_type_embeddings.weight", [c.typeVocabSize, e],
                           configFields: "type_vocab_size \(c.typeVocabSize), \(embeddingFields)")
        try w.requireShape("encoder.embedding_hidden_mapping_in.weight", [c.hiddenSize, e],
                           configFields: "hidden_size \(c.hiddenSize), \(embeddingFields)")
        let used = Set((0..<c.layers).map { Self.group(ofLayer: $0, layers: c.layers, groups: groups) })
        for g in used.sorted() {
            try EncoderLayerNames.albert.requireShapes(w.scope("encoder.albert_layer_groups.\(g).albert_layers"), count: innerGroupLayers,
                                                       hidden: c.hiddenSize, intermediate: c.intermediateSize,
                                                       hiddenField: "hidden_size", intermediateField: "intermediate_size")
        }
    }

    public var takesTokenTypeIDs: Bool { true }
    public var hiddenSize: Int { config.hiddenSize }

    func wordEmbeddings(_ b: GraphBuilder) throws -> Value {
        try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
    }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try wordEmbeddings(b)
        let embedded = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .absolute, epsilon: config.layerNormEpsilon, wordTable: words)
        }
        let encoder = w.scope("encoder")
        var h = try b.scope("encoder/embedding_hidden_mapping_in") { try b.linear(embedded, encoder.scope("embedding_hidden_mapping_in")) }
        let mask = try b.additiveAttentionMask(inputs.attentionMask)
        for i in 0..<config.layers {
            let group = encoder.scope("albert_layer_groups.\(Self.group(ofLayer: i, layers: config.layers, groups: groups)).albert_layers")
            for j in 0..<innerGroupLayers {
                h = try b.scope("encoder/layer.\(i)/albert_layers.\(j)") {
                    try b.postNormEncoderLayer(h, group.scope("\(j)"), names: .albert, shape: config.encoderShape, mask: mask)
                }
            }
        }
        return h
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? {
        guard w.has("pooler.weight") else { return nil }
        return try b.firstTokenPooler(hidden, dense: w.scope("pooler"))
    }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            // AlbertMLMHead: dense (hidden → embedding_size) → hidden_act → LayerNorm → decoder tied
            // to the word embeddings, whose bias is `predictions.bias`.
            let p = root.scope("predictions")
            let words = try wordEmbeddings(b)
            return try b.scope("predictions") {
                try b.maskedLMHead(hidden, dense: p.scope("dense"), activation: config.activation, norm: p.scope("LayerNorm"),
                                   epsilon: config.layerNormEpsilon, decoder: p.scope("decoder"), tiedEmbedding: words,
                                   bias: p, tied: config.tieWordEmbeddings)
            }
        case .textClassification, .multipleChoice:
            let pooled = try requiredPooler(hidden, b, for: task, missing: w, "pooler.weight")
            return try b.linearHead(pooled, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
