import ONNXExportIR

/// Builds the whole graph of an encoder for one task: declares the inputs with their dynamic
/// axes (optimum's names), lets the architecture encode and put its head on, and declares the
/// outputs. Multiple choice flattens `[batch, choices, seq]` to rows and folds the scores back.
public enum EncoderTaskGraph {
    public static let numChoices = Dim.symbol("num_choices")

    public static func build(_ model: EncoderModel, task: Task, name: String) throws -> Graph {
        let b = GraphBuilder(name: name)
        let axes: [Dim] = task == .multipleChoice ? [.batchSize, numChoices, .sequenceLength] : [.batchSize, .sequenceLength]
        let ids = b.input("input_ids", TensorType(.int64, axes))
        let mask = b.input("attention_mask", TensorType(.int64, axes))
        let types = model.takesTokenTypeIDs ? b.input("token_type_ids", TensorType(.int64, axes)) : nil
        let languages = model.takesLanguageIDs ? b.input("langs", TensorType(.int64, axes)) : nil
        var inputs = EncoderInputs(inputIDs: ids, attentionMask: mask, tokenTypeIDs: types, languageIDs: languages)
        if task == .multipleChoice {
            try b.scope("flatten_choices") {
                inputs.inputIDs = try b.node(.flatten(axis: 2), ids)
                inputs.attentionMask = try b.node(.flatten(axis: 2), mask)
                inputs.tokenTypeIDs = try types.map { try b.node(.flatten(axis: 2), $0) }
                inputs.languageIDs = try languages.map { try b.node(.flatten(axis: 2), $0) }
            }
        }
        let hidden = try model.encode(inputs, b)

        switch task {
        case .featureExtraction:
            try declare(hidden, "last_hidden_state", [.batchSize, .sequenceLength], b)
            if let pooled = try model.pooler(hidden, b) { try declare(pooled, "pooler_output", [.batchSize], b) }
        case .fillMask, .tokenClassification, .textGeneration:
            // text-generation: an encoder whose LM head scores every position (XLNet's lm_loss).
            try declare(try model.head(task, hidden: hidden, b), "logits", [.batchSize, .sequenceLength], b)
        case .textClassification:
            try declare(try model.head(task, hidden: hidden, b), "logits", [.batchSize], b)
        case .questionAnswering:
            let spans = try model.head(task, hidden: hidden, b)
            guard b.graph.type(of: spans).shape.last?.fixedValue == 2 else {
                throw ExportError("question-answering head gives \(b.graph.type(of: spans)), expected 2 logits per token (start, end)")
            }
            let start = try b.select(spans, axis: -1, index: 0, name: "StartLogits")
            let end = try b.select(spans, axis: -1, index: 1, name: "EndLogits")
            try declare(start, "start_logits", [.batchSize, .sequenceLength], b)
            try declare(end, "end_logits", [.batchSize, .sequenceLength], b)
        case .multipleChoice:
            let scores = try model.head(task, hidden: hidden, b)
            guard b.graph.type(of: scores).shape.last?.fixedValue == 1 else {
                throw ExportError("multiple-choice head gives \(b.graph.type(of: scores)), expected one score per choice")
            }
            let logits = try b.scope("unflatten_choices") {
                let batchAndChoices = try b.node(.gather(axis: 0), try b.node(.shape, ids), b.int64s([0, 1]))
                return try b.node(.reshapeDynamic, scores, batchAndChoices)
            }
            try declare(logits, "logits", [.batchSize, numChoices], b)
        case .textGenerationWithPast:
            throw ExportError("\(task.rawValue) needs a decoder model; this is an encoder")
        case .text2textGeneration, .text2textGenerationWithPast:
            throw ExportError("\(task.rawValue) needs an encoder-decoder model; this is an encoder")
        }
        return b.graph
    }

    /// Declares `v` as output `name` whose leading axes are `leading` and whose other axes keep
    /// their inferred (fixed) sizes.
    static func declare(_ v: Value, _ name: String, _ leading: [Dim], _ b: GraphBuilder) throws {
        let inferred = b.graph.type(of: v)
        guard inferred.rank >= leading.count else {
            throw ExportError("output '\(name)' has rank \(inferred.rank), expected at least \(leading.count)")
        }
        let shape = leading + inferred.shape.dropFirst(leading.count)
        try b.output(v, name: name, declared: TensorType(inferred.dtype, shape))
    }
}
