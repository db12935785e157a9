import ONNXExportIR

/// MPNet (transformers `modeling_mpnet.py`): BERT's post-LayerNorm layers (projections `q`, `k`,
/// `v`, `o`) with RoBERTa's position numbering from a padding index fixed at 1, no token types,
/// and a relative attention bias shared by every layer: `encoder.relative_attention_bias`
/// looked up by T5's bidirectional bucket of `key − query`, added to the scores with the mask.
public struct MPNet: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["mpnet"], tasks: Task.encoderTasks) { try MPNet($0, $1) }

    /// `MPNetEmbeddings.padding_idx`, hard-coded whatever the config's `pad_token_id`.
    static let paddingIndex = 1
    /// `compute_position_bias` buckets with its own defaults (32 buckets, distance 128), not the
    /// config's `relative_attention_num_buckets`, which sizes only the embedding.
    static let bucketCount = 32, maxDistance = 128

    let config: BertFamilyConfig
    let buckets: RelativePositionTable
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        config = try BertFamilyConfig(c, defaults: .mpnet)
        let rows = try c.positiveInt("relative_attention_num_buckets", default: 32)
        guard rows >= Self.bucketCount else {
            throw ExportError("\(c.origin): relative_attention_num_buckets is \(rows), but transformers' MPNet looks positions up in \(Self.bucketCount) buckets whatever the config says; a table of fewer rows fails on every sequence past a few tokens")
        }
        buckets = try .t5(bidirectional: true, buckets: Self.bucketCount, maxDistance: Self.maxDistance, origin: c.origin)
        root = Weights(store)
        w = root.base(["mpnet", ""], probe: "embeddings.word_embeddings.weight")
        try w.requireShape("embeddings.word_embeddings.weight", [config.vocabSize, config.hiddenSize],
                           configFields: "vocab_size \(config.vocabSize), hidden_size \(config.hiddenSize)")
        try w.requireShape("embeddings.position_embeddings.weight", [config.maxPositions, config.hiddenSize],
                           configFields: "max_position_embeddings \(config.maxPositions), hidden_size \(config.hiddenSize)")
        try w.requireShape("encoder.relative_attention_bias.weight", [rows, config.heads],
                           configFields: "relative_attention_num_buckets \(rows), num_attention_heads \(config.heads)")
        try EncoderLayerNames.mpnet.requireShapes(w.scope("encoder.layer"), count: config.layers, hidden: config.hiddenSize,
                                                  intermediate: config.intermediateSize, hiddenField: "hidden_size",
                                                  intermediateField: "intermediate_size")
    }

    public var takesTokenTypeIDs: Bool { false }
    public var hiddenSize: Int { config.hiddenSize }

    func wordEmbeddings(_ b: GraphBuilder) throws -> Value {
        try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
    }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try wordEmbeddings(b)
        var h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .paddingOffset(paddingIndex: Self.paddingIndex),
                                 epsilon: config.layerNormEpsilon, wordTable: words)
        }
        let mask = try b.scope("encoder") {
            let bias = try positionBias(length: try b.scalarDimension(inputs.inputIDs, axis: 1), b)
            return try b.add(try b.additiveAttentionMask(inputs.attentionMask), bias, name: "MaskAndPositionBias")
        }
        for i in 0..<config.layers {
            h = try b.scope("encoder/layer.\(i)") {
                try b.postNormEncoderLayer(h, w.scope("encoder.layer.\(i)"), names: .mpnet, shape: config.encoderShape, mask: mask)
            }
        }
        return h
    }

    /// `compute_position_bias`: `[1, heads, S, S]`, float32 whatever the export's precision (it
    /// meets the float32 mask, whose lowest value must stay finite).
    func positionBias(length: Value, _ b: GraphBuilder) throws -> Value {
        try b.scope("relative_attention_bias") {
            let bucket = try b.relativePositionLookup(buckets, length: length, queryMinusKey: false, name: "buckets")
            let table = try w.value("encoder.relative_attention_bias.weight", rank: 2, in: b)
            let perPair = try b.embed(bucket, table)  // [S, S, heads]
            let bias = try b.unsqueeze(try b.transpose(perPair, [2, 0, 1]), [0])
            return try b.cast(bias, to: .float32)
        }
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? {
        guard w.has("pooler.dense.weight") else { return nil }
        return try b.scope("pooler") { try b.firstTokenPooler(hidden, dense: w.scope("pooler.dense")) }
    }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            return try b.robertaStyleLMHead(hidden, root.scope("lm_head"), wordTable: try wordEmbeddings(b),
                                            epsilon: config.layerNormEpsilon, tied: config.tieWordEmbeddings)
        case .textClassification:
            return try b.firstTokenClassifier(hidden, head: root.scope("classifier"), activation: .tanh)
        case .multipleChoice:
            let pooled = try requiredPooler(hidden, b, for: task, missing: w, "pooler.dense.weight")
            return try b.linearHead(pooled, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
