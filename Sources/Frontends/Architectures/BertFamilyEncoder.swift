import ONNXExportIR

/// The body BERT, RoBERTa, XLM-RoBERTa and ELECTRA share: `BertEmbeddings` (ELECTRA's narrower
/// ones projected by `embeddings_project` when present), post-LayerNorm layers under
/// `encoder.layer.N`, and the tanh pooler where the checkpoint has one. The architecture files
/// add only their position numbering and their heads.
struct BertFamilyEncoder {
    let config: BertFamilyConfig
    /// The base model: `<prefix>.` in task checkpoints, no prefix in a bare base model.
    let w: Weights
    /// The whole checkpoint, where the heads live (`cls.`, `classifier.`, `qa_outputs.`, ...).
    let root: Weights
    let positions: PositionIDs

    init(_ c: ConfigReader, _ store: WeightStore, defaults: BertFamilyConfig.Defaults, prefix: String, paddingOffsetPositions: Bool) throws {
        config = try BertFamilyConfig(c, defaults: defaults)
        root = Weights(store)
        w = root.base([prefix, ""], probe: "embeddings.word_embeddings.weight")
        positions = paddingOffsetPositions ? .paddingOffset(paddingIndex: config.padTokenID) : .absolute
        try requireConfigShapes()
    }

    /// The embedding tables' rows and every layer's widths as the config gives them (the tables'
    /// width is ELECTRA's `embedding_size`, which the projection after them checks).
    private func requireConfigShapes() throws {
        let c = config
        try w.requireShape("embeddings.word_embeddings.weight", [c.vocabSize, nil], configFields: "vocab_size \(c.vocabSize)")
        try w.requireShape("embeddings.position_embeddings.weight", [c.maxPositions, nil],
                           configFields: "max_position_embeddings \(c.maxPositions)")
        try w.requireShape("embeddings.token_type_embeddings.weight", [c.typeVocabSize, nil],
                           configFields: "type_vocab_size \(c.typeVocabSize)")
        try EncoderLayerNames.bert.requireShapes(w.scope("encoder.layer"), count: c.layers, hidden: c.hiddenSize,
                                                 intermediate: c.intermediateSize, hiddenField: "hidden_size",
                                                 intermediateField: "intermediate_size")
    }

    func wordEmbeddings(_ b: GraphBuilder) throws -> Value {
        try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
    }

    func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try wordEmbeddings(b)
        var h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: positions, epsilon: config.layerNormEpsilon, wordTable: words)
        }
        if w.has("embeddings_project.weight") {
            h = try b.scope("embeddings_project") { try b.linear(h, w.scope("embeddings_project")) }
        }
        return try b.postNormEncoderStack(h, w.scope("encoder.layer"), scopeName: "encoder", count: config.layers,
                                          names: .bert, shape: config.encoderShape, attentionMask: inputs.attentionMask)
    }

    func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? {
        guard w.has("pooler.dense.weight") else { return nil }
        return try b.scope("pooler") { try b.firstTokenPooler(hidden, dense: w.scope("pooler.dense")) }
    }
}

/// An architecture built on `BertFamilyEncoder`: the body's size, encoding and pooler come for free.
protocol BertFamilyModel: EncoderModel {
    var body: BertFamilyEncoder { get }
}

extension BertFamilyModel {
    public var hiddenSize: Int { body.config.hiddenSize }
    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value { try body.encode(inputs, b) }
    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { try body.pooler(hidden, b) }
}
