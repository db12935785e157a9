import ONNXExportIR

/// BERT (transformers `modeling_bert.py`): absolute positions, token types, post-LayerNorm
/// layers, a tanh pooler, and `cls.predictions` tied to the word embeddings.
public struct BERT: BertFamilyModel {
    public static let entry = ArchitectureEntry(modelTypes: ["bert"], tasks: Task.encoderTasks, make: { try BERT($0, $1) },
                                                originalNames: [.tensorflow: googleNames])

    /// Google's original TensorFlow BERT (`bert_model.ckpt`, `run_classifier.py`, `run_squad.py`):
    /// kernels are `[in, out]`, LayerNorm uses gamma/beta.
    static let googleNames = NameTable([
        NameRule("bert/embeddings/word_embeddings", "bert.embeddings.word_embeddings.weight"),
        NameRule("bert/embeddings/token_type_embeddings", "bert.embeddings.token_type_embeddings.weight"),
        NameRule("bert/embeddings/position_embeddings", "bert.embeddings.position_embeddings.weight"),
        NameRule("bert/embeddings/LayerNorm/gamma", "bert.embeddings.LayerNorm.weight"),
        NameRule("bert/embeddings/LayerNorm/beta", "bert.embeddings.LayerNorm.bias"),
        NameRule("bert/encoder/layer_{i}/attention/self/query/kernel", "bert.encoder.layer.{i}.attention.self.query.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/attention/self/query/bias", "bert.encoder.layer.{i}.attention.self.query.bias"),
        NameRule("bert/encoder/layer_{i}/attention/self/key/kernel", "bert.encoder.layer.{i}.attention.self.key.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/attention/self/key/bias", "bert.encoder.layer.{i}.attention.self.key.bias"),
        NameRule("bert/encoder/layer_{i}/attention/self/value/kernel", "bert.encoder.layer.{i}.attention.self.value.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/attention/self/value/bias", "bert.encoder.layer.{i}.attention.self.value.bias"),
        NameRule("bert/encoder/layer_{i}/attention/output/dense/kernel", "bert.encoder.layer.{i}.attention.output.dense.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/attention/output/dense/bias", "bert.encoder.layer.{i}.attention.output.dense.bias"),
        NameRule("bert/encoder/layer_{i}/attention/output/LayerNorm/gamma", "bert.encoder.layer.{i}.attention.output.LayerNorm.weight"),
        NameRule("bert/encoder/layer_{i}/attention/output/LayerNorm/beta", "bert.encoder.layer.{i}.attention.output.LayerNorm.bias"),
        NameRule("bert/encoder/layer_{i}/intermediate/dense/kernel", "bert.encoder.layer.{i}.intermediate.dense.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/intermediate/dense/bias", "bert.encoder.layer.{i}.intermediate.dense.bias"),
        NameRule("bert/encoder/layer_{i}/output/dense/kernel", "bert.encoder.layer.{i}.output.dense.weight", .transpose),
        NameRule("bert/encoder/layer_{i}/output/dense/bias", "bert.encoder.layer.{i}.output.dense.bias"),
        NameRule("bert/encoder/layer_{i}/output/LayerNorm/gamma", "bert.encoder.layer.{i}.output.LayerNorm.weight"),
        NameRule("bert/encoder/layer_{i}/output/LayerNorm/beta", "bert.encoder.layer.{i}.output.LayerNorm.bias"),
        NameRule("bert/pooler/dense/kernel", "bert.pooler.dense.weight", .transpose),
        NameRule("bert/pooler/dense/bias", "bert.pooler.dense.bias"),
        NameRule("cls/predictions/transform/dense/kernel", "cls.predictions.transform.dense.weight", .transpose),
        NameRule("cls/predictions/transform/dense/bias", "cls.predictions.transform.dense.bias"),
        NameRule("cls/predictions/transform/LayerNorm/gamma", "cls.predictions.transform.LayerNorm.weight"),
        NameRule("cls/predictions/transform/LayerNorm/beta", "cls.predictions.transform.LayerNorm.bias"),
        NameRule("cls/predictions/output_bias", "cls.predictions.bias"),
        // Next-sentence head: `output_weights` is already `[2, hidden]`.
        NameRule("cls/seq_relationship/output_weights", "cls.seq_relationship.weight"),
        NameRule("cls/seq_relationship/output_bias", "cls.seq_relationship.bias"),
        // run_classifier.py and run_squad.py heads, also `[labels, hidden]`.
        NameRule("output_weights", "classifier.weight"),
        NameRule("output_bias", "classifier.bias"),
        NameRule("cls/squad/output_weights", "qa_outputs.weight"),
        NameRule("cls/squad/output_bias", "qa_outputs.bias"),
    ])

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
            return try b.linearHead(try requiredPooler(hidden, b, for: task, missing: body.w, "pooler.dense.weight"), root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
