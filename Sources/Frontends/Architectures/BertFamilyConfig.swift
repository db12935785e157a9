import ONNXExportIR

/// The config fields BERT, RoBERTa, XLM-RoBERTa, ELECTRA, ALBERT, MPNet and DeBERTa-v2 share (`BertConfig` and its
/// descendants), with transformers' defaults.
public struct BertFamilyConfig {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var activation: Activation
    public var layerNormEpsilon: Double
    public var typeVocabSize: Int
    public var maxPositions: Int
    public var padTokenID: Int
    public var tieWordEmbeddings: Bool

    /// The defaults of one config class, for configs that leave fields out.
    public struct Defaults: Sendable {
        var vocabSize = 30522, hiddenSize = 768, layers = 12, heads = 12, intermediateSize = 3072, padTokenID = 0
        var activation = "gelu"
        var typeVocabSize = 2
        var layerNormEpsilon = 1e-12
        public static let bert = Defaults()
        public static let roberta = Defaults(vocabSize: 50265, padTokenID: 1)
        public static let xlmRoberta = Defaults(padTokenID: 1)
        public static let electra = Defaults(hiddenSize: 256, heads: 4, intermediateSize: 1024)
        public static let debertaV2 = Defaults(vocabSize: 128100, hiddenSize: 1536, layers: 24, heads: 24, intermediateSize: 6144,
                                               typeVocabSize: 0, layerNormEpsilon: 1e-7)
        public static let mpnet = Defaults(vocabSize: 30527, padTokenID: 1)
        public static let albert = Defaults(vocabSize: 30000, hiddenSize: 4096, heads: 64, intermediateSize: 16384, activation: "gelu_new")
    }

    public init(_ c: ConfigReader, defaults d: Defaults) throws {
        vocabSize = try c.positiveInt("vocab_size", default: d.vocabSize)
        hiddenSize = try c.positiveInt("hidden_size", default: d.hiddenSize)
        layers = try c.positiveInt("num_hidden_layers", default: d.layers)
        heads = try c.positiveInt("num_attention_heads", default: d.heads)
        intermediateSize = try c.positiveInt("intermediate_size", default: d.intermediateSize)
        activation = try Activation(configValue: try c.string("hidden_act", default: d.activation), origin: c.origin, key: "hidden_act")
        layerNormEpsilon = try c.double("layer_norm_eps", default: d.layerNormEpsilon)
        typeVocabSize = try c.int("type_vocab_size", default: d.typeVocabSize)
        maxPositions = try c.positiveInt("max_position_embeddings", default: 512)
        padTokenID = try c.optionalInt("pad_token_id") ?? d.padTokenID
        tieWordEmbeddings = try c.bool("tie_word_embeddings", default: true)
        guard hiddenSize % heads == 0 else {
            throw ExportError("\(c.origin): hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
        }
        if try c.bool("is_decoder", default: false) {
            throw ExportError("\(c.origin): is_decoder is true; causal BERT-family decoders are not supported by the encoder tasks")
        }
        let positionType = try c.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw ExportError("\(c.origin): position_embedding_type \"\(positionType)\" is not supported (only \"absolute\")")
        }
    }

    public var encoderShape: EncoderShape {
        EncoderShape(heads: heads, activation: activation, layerNormEpsilon: layerNormEpsilon)
    }
}
