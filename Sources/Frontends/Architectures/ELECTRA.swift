import ONNXExportIR

/// ELECTRA discriminator/generator checkpoints (transformers `modeling_electra.py`): BERT's
/// layers on embeddings of width `embedding_size`, projected to `hidden_size` by
/// `embeddings_project` when the two differ; heads with an erf GELU where BERT uses tanh, and a
/// `SequenceSummary` for multiple choice.
public struct ELECTRA: BertFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["electra"], tasks: Task.encoderTasks) { try ELECTRA($0, $1) }

    let body: BertFamilyEncoder
    let summary: SequenceSummary

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        body = try BertFamilyEncoder(c, store, defaults: .electra, prefix: "electra", paddingOffsetPositions: false)
        summary = try SequenceSummary(c, defaultKind: .first)
    }

    public var takesTokenTypeIDs: Bool { true }
    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        let root = body.root, config = body.config
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let words = try body.wordEmbeddings(b)
            let p = root.scope("generator_predictions")
            return try b.scope("generator") {
                try b.maskedLMHead(hidden, dense: p.scope("dense"), activation: .gelu, norm: p.scope("LayerNorm"),
                                   epsilon: config.layerNormEpsilon, decoder: root.scope("generator_lm_head"),
                                   tiedEmbedding: words, bias: nil, tied: config.tieWordEmbeddings)
            }
        case .textClassification:
            return try b.firstTokenClassifier(hidden, head: root.scope("classifier"), activation: .gelu)
        case .multipleChoice:
            let pooled = try b.scope("sequence_summary") { try b.sequenceSummary(hidden, summary, root.scope("sequence_summary")) }
            return try b.linearHead(pooled, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
