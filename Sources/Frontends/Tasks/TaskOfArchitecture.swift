/// The task of a transformers model class, as optimum's `TasksManager` infers it from a class:
/// the task whose auto-class mapping (`AutoModelForSequenceClassification`, `AutoModelForCausalLM`,
/// ...) lists the class, tasks taken in optimum's order, so a class two mappings list gets the
/// first (`XLMWithLMHeadModel`, in both the masked- and the causal-LM mapping, is fill-mask).
///
/// transformers names a class by its head, so the head's suffix decides; a few names the suffix
/// alone would misread are listed whole. Classes no auto-class lists (`BertForPreTraining`,
/// `BertForNextSentencePrediction`, `GPT2DoubleHeadsModel`, `T5EncoderModel`, the beam-search
/// `XLNetForQuestionAnswering`) make optimum give up; here the ones whose weights one of our tasks
/// reads map to it, with a note, and the others map to no task.
enum TaskOfArchitecture {
    enum Lookup: Equatable {
        case task(Task)
        /// Why the class has no task (completes "<class> ...").
        case noTask(String)
    }

    static func lookup(_ architecture: String) -> Lookup {
        if let whole = wholeNames[architecture] { return whole }
        for (suffix, task) in suffixes where architecture.hasSuffix(suffix) && architecture.count > suffix.count {
            return .task(task)
        }
        return .noTask("is a head no export task computes")
    }

    /// What the user should know about a mapping optimum does not make.
    static func note(_ architecture: String) -> String? {
        notes.first { architecture.hasSuffix($0.suffix) }?.note
    }

    /// Checked before the suffixes, in this order; longer suffixes sharing an ending come first
    /// (`WithLMHeadModel` before `LMHeadModel` before `Model`).
    static let suffixes: [(String, Task)] = [
        ("ForSequenceClassification", .textClassification),
        ("ForTokenClassification", .tokenClassification),
        // XLM and XLNet: the span head ("Simple"); their plain ForQuestionAnswering is in wholeNames.
        ("ForQuestionAnsweringSimple", .questionAnswering),
        ("ForQuestionAnswering", .questionAnswering),
        ("ForMultipleChoice", .multipleChoice),
        ("ForMaskedLM", .fillMask),
        // XLM (XLMWithLMHeadModel): listed as masked LM before causal LM.
        ("WithLMHeadModel", .fillMask),
        ("ForCausalLM", .textGeneration),
        // GPT-2, OpenAI GPT, XLNet, Transformer-XL, BERT as a decoder.
        ("LMHeadModel", .textGeneration),
        // GPT-2 and OpenAI GPT with a multiple-choice head beside the LM head: the LM head is exported.
        ("DoubleHeadsModel", .textGeneration),
        ("ForConditionalGeneration", .text2textGeneration),
        // BERT, ALBERT, ELECTRA: optimum's synonym "pretraining" is feature-extraction.
        ("ForPreTraining", .featureExtraction),
        // T5EncoderModel, MT5EncoderModel, UMT5EncoderModel: the encoder's hidden states.
        ("EncoderModel", .featureExtraction),
        // The bare model (BertModel, LlamaModel, TransfoXLModel).
        ("Model", .featureExtraction),
    ]

    static let wholeNames: [String: Lookup] = [
        // Beam-search heads (top-k start and end, answer class): not the span logits question-answering gives.
        "XLMForQuestionAnswering": .noTask("is a beam-search question-answering head; question-answering exports XLMForQuestionAnsweringSimple's span head"),
        "XLNetForQuestionAnswering": .noTask("is a beam-search question-answering head; question-answering exports XLNetForQuestionAnsweringSimple's span head"),
        // transformers 2's name of T5ForConditionalGeneration, kept in some early configs.
        "T5WithLMHeadModel": .task(.text2textGeneration),
    ]

    static let notes: [(suffix: String, note: String)] = [
        ("ForPreTraining", "pretraining heads export as feature-extraction, as in optimum"),
        ("DoubleHeadsModel", "the language-model head; the multiple-choice head is left out"),
    ]
}
