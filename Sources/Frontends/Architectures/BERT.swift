import ONNXExportIR

/// BERT (transformers `modeling_bert.py`): absolute positions, token types, post-LayerNorm
/// layers, a tanh pooler, and `cls.predictions` tied to the word embeddings.
public struct BERT: BertFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["bert"], tasks: Task.encoderTasks) { try BERT($0, $1) }

    let body: BertFamilyEncoder

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        body = try BertFamilyEncoder(c, store, defaults: .bert, prefix: "bert", paddingOffsetPositions: false)
    }

    public var takesTokenTypeIDs: Bool { true }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        let root = body.root, config = body.config
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let p = root.scope("cls.predictions")
            let words = try body.wordEmbeddings(b)
            return try b.scope("cls/predictions") {
                try b.maskedLMHead(hidden, dense: p.scope("transform.dense"), activation: config.activation,
                                   norm: p.scope("transform.LayerNorm"), epsilon: config.layerNormEpsilon,
                                   decoder: p.scope("decoder"), tiedEmbedding: words, bias: p, tied: config.tieWordEmbeddings)
            }
        case .textClassification, .multipleChoice:
            return try b.linearHead(try body.requiredPooler(hidden, b, for: task), root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
