import ONNXExportIR

/// RoBERTa and XLM-RoBERTa (transformers `modeling_roberta.py`, `modeling_xlm_roberta.py`, the
/// same arithmetic): BERT's layers with fairseq position numbering from `padding_idx + 1`, no
/// `token_type_ids` input, `lm_head` with an erf GELU whatever `hidden_act` says, and a
/// classification head on `<s>` (dense → tanh → out_proj) instead of the pooler.
public struct RoBERTa: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["roberta", "xlm-roberta"], tasks: Task.allCases) { try RoBERTa($0, $1) }

    let config: BertFamilyConfig
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        let modelType = try c.string("model_type", default: "roberta")
        config = try BertFamilyConfig(c, defaults: modelType == "xlm-roberta" ? .xlmRoberta : .roberta)
        root = Weights(store)
        w = root.base(["roberta", ""], probe: "embeddings.word_embeddings.weight")
    }

    public var takesTokenTypeIDs: Bool { false }
    public var hiddenSize: Int { config.hiddenSize }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
        var h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .paddingOffset(paddingIndex: config.padTokenID),
                                 epsilon: config.layerNormEpsilon, wordTable: words)
        }
        let mask = try b.additiveAttentionMask(inputs.attentionMask)
        for i in 0..<config.layers {
            h = try b.scope("encoder/layer.\(i)") {
                try b.postNormEncoderLayer(h, w.scope("encoder.layer.\(i)"), names: .bert, shape: config.encoderShape, mask: mask)
            }
        }
        return h
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? {
        guard w.has("pooler.dense.weight") else { return nil }
        return try b.scope("pooler") { try b.tanhPooler(hidden, w.scope("pooler")) }
    }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
            let lm = root.scope("lm_head")
            return try b.scope("lm_head") {
                try b.maskedLMHead(hidden, dense: lm.scope("dense"), activation: .gelu, norm: lm.scope("layer_norm"),
                                   epsilon: config.layerNormEpsilon, decoder: lm.scope("decoder"), tiedEmbedding: words,
                                   bias: lm, tied: config.tieWordEmbeddings)
            }
        case .textClassification:
            let head = root.scope("classifier")
            return try b.scope("classifier") {
                let first = try b.firstToken(hidden)
                let dense = try b.node(.tanh, try b.scope("dense") { try b.linear(first, head.scope("dense")) })
                return try b.scope("out_proj") { try b.linear(dense, head.scope("out_proj")) }
            }
        case .multipleChoice:
            guard let pooled = try pooler(hidden, b) else {
                throw ExportError("\(w.store.origin): weight '\(w.fullName("pooler.dense.weight"))' is missing; multiple-choice needs the pooler")
            }
            return try b.scope("classifier") { try b.linear(pooled, root.scope("classifier")) }
        case .tokenClassification:
            return try b.scope("classifier") { try b.linear(hidden, root.scope("classifier")) }
        case .questionAnswering:
            return try b.scope("qa_outputs") { try b.linear(hidden, root.scope("qa_outputs")) }
        }
    }
}
