import ONNXExportIR

/// ELECTRA discriminator/generator checkpoints (transformers `modeling_electra.py`): BERT's
/// layers on embeddings of width `embedding_size`, projected to `hidden_size` by
/// `embeddings_project` when the two differ; heads with an erf GELU where BERT uses tanh, and a
/// `SequenceSummary` for multiple choice.
public struct ELECTRA: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["electra"], tasks: Task.allCases) { try ELECTRA($0, $1) }

    /// `summary_type`: how multiple choice reduces a sequence to one vector.
    enum Summary: String { case first, last, mean, clsIndex = "cls_index" }

    let config: BertFamilyConfig
    let summary: Summary
    let summaryActivation: Activation?
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        config = try BertFamilyConfig(c, defaults: .electra)
        let summaryName = try c.string("summary_type", default: "first")
        guard let s = Summary(rawValue: summaryName) else {
            throw ExportError("\(c.origin): summary_type \"\(summaryName)\" is not supported (first, last, mean, cls_index)")
        }
        summary = s
        summaryActivation = try c.optionalString("summary_activation").map {
            try Activation(configValue: $0, origin: c.origin, key: "summary_activation")
        }
        root = Weights(store)
        w = root.base(["electra", ""], probe: "embeddings.word_embeddings.weight")
    }

    public var takesTokenTypeIDs: Bool { true }
    public var hiddenSize: Int { config.hiddenSize }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
        var h = try b.scope("embeddings") {
            try b.bertEmbeddings(inputs, w.scope("embeddings"), positions: .absolute, epsilon: config.layerNormEpsilon, wordTable: words)
        }
        if w.has("embeddings_project.weight") {
            h = try b.scope("embeddings_project") { try b.linear(h, w.scope("embeddings_project")) }
        }
        let mask = try b.additiveAttentionMask(inputs.attentionMask)
        for i in 0..<config.layers {
            h = try b.scope("encoder/layer.\(i)") {
                try b.postNormEncoderLayer(h, w.scope("encoder.layer.\(i)"), names: .bert, shape: config.encoderShape, mask: mask)
            }
        }
        return h
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let words = try w.value("embeddings.word_embeddings.weight", rank: 2, in: b)
            let p = root.scope("generator_predictions")
            return try b.scope("generator") {
                try b.maskedLMHead(hidden, dense: p.scope("dense"), activation: .gelu, norm: p.scope("LayerNorm"),
                                   epsilon: config.layerNormEpsilon, decoder: root.scope("generator_lm_head"),
                                   tiedEmbedding: words, bias: nil, tied: config.tieWordEmbeddings)
            }
        case .textClassification:
            let head = root.scope("classifier")
            return try b.scope("classifier") {
                let first = try b.firstToken(hidden)
                let dense = try b.activation(try b.scope("dense") { try b.linear(first, head.scope("dense")) }, .gelu)
                return try b.scope("out_proj") { try b.linear(dense, head.scope("out_proj")) }
            }
        case .multipleChoice:
            let pooled = try b.scope("sequence_summary") { try sequenceSummary(hidden, b) }
            return try b.scope("classifier") { try b.linear(pooled, root.scope("classifier")) }
        case .tokenClassification:
            return try b.scope("classifier") { try b.linear(hidden, root.scope("classifier")) }
        case .questionAnswering:
            return try b.scope("qa_outputs") { try b.linear(hidden, root.scope("qa_outputs")) }
        }
    }

    /// `ElectraSequenceSummary`: pick or average tokens, optional projection, optional activation.
    func sequenceSummary(_ hidden: Value, _ b: GraphBuilder) throws -> Value {
        var x: Value
        switch summary {
        case .first: x = try b.firstToken(hidden)
        case .last, .clsIndex: x = try b.select(hidden, axis: 1, index: -1, name: "LastToken")
        case .mean: x = try b.node(.reduceMean(axes: [1], keepDims: false), hidden)
        }
        let s = root.scope("sequence_summary.summary")
        if s.has("weight") { x = try b.scope("summary") { try b.linear(x, s) } }
        if let summaryActivation { x = try b.activation(x, summaryActivation) }
        return x
    }
}
