import ONNXExportIR

/// What the exported model computes, named as the optimum exporter names its tasks, so its
/// `ORTModelFor...` classes load the output unchanged. Seed pipeline names are accepted as aliases.
public enum Task: String, CaseIterable, Sendable {
    case featureExtraction = "feature-extraction"
    case fillMask = "fill-mask"
    case textClassification = "text-classification"
    case tokenClassification = "token-classification"
    case questionAnswering = "question-answering"
    case multipleChoice = "multiple-choice"
    case textGeneration = "text-generation"
    case textGenerationWithPast = "text-generation-with-past"
    /// An encoder-decoder's encoder and first-step decoder (`encoder_model.onnx`, `decoder_model.onnx`).
    case text2textGeneration = "text2text-generation"
    /// The above plus the decoder with a cache and optimum's merged decoder.
    case text2textGenerationWithPast = "text2text-generation-with-past"

    /// transformers pipeline names and other common spellings.
    static let aliases: [String: Task] = [
        "default": .featureExtraction,
        "feature_extraction": .featureExtraction,
        "masked-lm": .fillMask,
        "sentiment-analysis": .textClassification,
        "sequence-classification": .textClassification,
        "ner": .tokenClassification,
        "token_classification": .tokenClassification,
        "question_answering": .questionAnswering,
        "multiple_choice": .multipleChoice,
        "causal-lm": .textGeneration,
        "causal-lm-with-past": .textGenerationWithPast,
        "text-generation-with-cache": .textGenerationWithPast,
        "translation": .text2textGeneration,
        "summarization": .text2textGeneration,
        "seq2seq-lm": .text2textGeneration,
        "seq2seq-lm-with-past": .text2textGenerationWithPast,
        "translation-with-past": .text2textGenerationWithPast,
        "summarization-with-past": .text2textGenerationWithPast,
    ]

    /// The tasks encoder-decoder models support.
    public static let seq2seqTasks: [Task] = [.featureExtraction, .text2textGeneration, .text2textGenerationWithPast]

    /// The tasks encoders (BERT family) support.
    public static let encoderTasks: [Task] = [.featureExtraction, .fillMask, .textClassification, .tokenClassification,
                                              .questionAnswering, .multipleChoice]

    /// The tasks causal language models support.
    public static let decoderTasks: [Task] = [.featureExtraction, .textGeneration, .textGenerationWithPast,
                                              .textClassification, .tokenClassification]

    /// Parses a task name or alias; an unknown one is an error listing the accepted names.
    public init(name: String) throws {
        let key = name.lowercased()
        if let t = Task(rawValue: key) ?? Task.aliases[key] {
            self = t
            return
        }
        // transformers' pipeline names with languages: translation_en_to_fr.
        if key.hasPrefix("translation_"), key.contains("_to_") {
            self = .text2textGeneration
            return
        }
        let known = Task.allCases.map(\.rawValue).joined(separator: ", ")
        let aliases = Task.aliases.keys.sorted().joined(separator: ", ")
        throw ExportError("unknown task '\(name)': choose auto (the task config.json's architectures names) or one of \(known) (aliases: \(aliases))")
    }
}
