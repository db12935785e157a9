import ONNXExportIR

/// BERT (transformers `modeling_bert.py`): absolute positions, token types, post-LayerNorm
/// layers, a tanh pooler, and `cls.predictions` tied to the word embeddings.
public struct BERT: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["bert"], tasks: Task.allCases) { try BERT($0, $1) }

    let config: BertFamilyConfig
    let w: Weights        // the base model: `bert.` in task checkpoints, no prefix in a bare BertModel
    let root: Weights     // the heads: `cls.`, `classifier.`, `qa_outputs.`

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        config = try BertFamilyConfig(c, defaults: .bert)
        root = Weights(store)
        w = root.base(["bert", ""], probe: "embeddings.word_embeddings.weight")
    }

    public var takesTokenTypeIDs: Bool { true }
    public var hiddenSize: Int { config.hiddenSize }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
        var h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .absolute, epsilon: config.layerNormEpsilon, wordTable: words)
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
            let p = root.scope("cls.predictions")
            return try b.scope("cls/predictions") {
                try b.maskedLMHead(hidden, dense: p.scope("transform.dense"), activation: config.activation,
                                   norm: p.scope("transform.LayerNorm"), epsilon: config.layerNormEpsilon,
                                   decoder: p.scope("decoder"), tiedEmbedding: words, bias: p, tied: config.tieWordEmbeddings)
            }
        case .textClassification, .multipleChoice:
            guard let pooled = try pooler(hidden, b) else {
                throw ExportError("\(w.store.origin): weight '\(w.fullName("pooler.dense.weight"))' is missing; \(task.rawValue) needs the pooler")
            }
            return try b.scope("classifier") { try b.linear(pooled, root.scope("classifier")) }
        case .tokenClassification:
            return try b.scope("classifier") { try b.linear(hidden, root.scope("classifier")) }
        case .questionAnswering:
            return try b.scope("qa_outputs") { try b.linear(hidden, root.scope("qa_outputs")) }
        }
    }
}
