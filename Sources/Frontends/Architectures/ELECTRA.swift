import ONNXExportIR

/// ELECTRA discriminator/generator checkpoints (transformers `modeling_electra.py`): BERT's
/// layers on embeddings of width `embedding_size`, projected to `hidden_size` by
/// `embeddings_project` when the two differ; heads with an erf GELU where BERT uses tanh, and a
/// `SequenceSummary` for multiple choice.
public struct ELECTRA: BertFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["electra"], tasks: Task.encoderTasks) { try ELECTRA($0, $1) }

    /// `summary_type`: how multiple choice reduces a sequence to one vector.
    enum Summary: String { case first, last, mean, clsIndex = "cls_index" }

    let body: BertFamilyEncoder
    let summary: Summary
    let summaryActivation: Activation?

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        body = try BertFamilyEncoder(c, store, defaults: .electra, prefix: "electra", paddingOffsetPositions: false)
        let summaryName = try c.string("summary_type", default: "first")
        guard let s = Summary(rawValue: summaryName) else {
            throw ExportError("\(c.origin): summary_type \"\(summaryName)\" is not supported (first, last, mean, cls_index)")
        }
        summary = s
        summaryActivation = try c.optionalString("summary_activation").map {
            try Activation(configValue: $0, origin: c.origin, key: "summary_activation")
        }
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
            let head = root.scope("classifier")
            return try b.scope("classifier") {
                let dense = try b.activation(try b.linearHead(try b.firstToken(hidden), head, named: "dense"), .gelu)
                return try b.linearHead(dense, head, named: "out_proj")
            }
        case .multipleChoice:
            let pooled = try b.scope("sequence_summary") { try sequenceSummary(hidden, b) }
            return try b.linearHead(pooled, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }

    /// `ElectraSequenceSummary`: pick or average tokens, optional projection, optional activation.
    func sequenceSummary(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        var x: Value
        switch summary {
        case .first: x = try b.firstToken(hidden)
        case .last, .clsIndex: x = try b.select(hidden, axis: 1, index: -1, name: "LastToken")
        case .mean: x = try b.node(.reduce(.mean, axes: [1], keepDims: false), hidden)
        }
        let summaryWeights = body.root.scope("sequence_summary")
        if summaryWeights.has("summary.weight") { x = try b.linearHead(x, summaryWeights, named: "summary") }
        if let summaryActivation { x = try b.activation(x, summaryActivation) }
        return x
    }
}
