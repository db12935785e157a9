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
        return try b.scope("pooler") { try b.tanhPooler(hidden, w.scope("pooler")) }
    }

    /// The pooler, required: text classification and multiple choice read it.
    func requiredPooler(_ hidden: Value, _ b: GraphBuilder, for task: Task) throws -> Value {
        guard let pooled = try pooler(hidden, b) else {
            throw ExportError("\(w.store.origin): weight '\(w.fullName("pooler.dense.weight"))' is missing; \(task.rawValue) needs the pooler")
        }
        return pooled
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
