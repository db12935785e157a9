import ONNXExportIR

/// RoBERTa and XLM-RoBERTa (transformers `modeling_roberta.py`, `modeling_xlm_roberta.py`, the
/// same arithmetic): BERT's layers with fairseq position numbering from `padding_idx + 1`, no
/// `token_type_ids` input, `lm_head` with an erf GELU whatever `hidden_act` says, and a
/// classification head on `<s>` (dense → tanh → out_proj) instead of the pooler.
public struct RoBERTa: BertFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["roberta", "xlm-roberta"], tasks: Task.encoderTasks) { try RoBERTa($0, $1) }

    let body: BertFamilyEncoder

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        let modelType = try c.string("model_type", default: "roberta")
        body = try BertFamilyEncoder(c, store, defaults: modelType == "xlm-roberta" ? .xlmRoberta : .roberta,
                                     prefix: "roberta", paddingOffsetPositions: true)
    }

    public var takesTokenTypeIDs: Bool { false }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        let root = body.root, config = body.config
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            return try b.robertaStyleLMHead(hidden, root.scope("lm_head"), wordTable: try body.wordEmbeddings(b),
                                            epsilon: config.layerNormEpsilon, tied: config.tieWordEmbeddings)
        case .textClassification:
            return try b.firstTokenClassifier(hidden, head: root.scope("classifier"), activation: .tanh)
        case .multipleChoice:
            return try b.linearHead(try requiredPooler(hidden, b, for: task, missing: body.w, "pooler.dense.weight"), root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
