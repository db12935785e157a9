import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// `--task auto`: every model class our families save, mapped as optimum's
/// `TasksManager._infer_task_from_model_or_model_class` maps it (optimum 2.1.0, transformers
/// 4.57: the classes listed here are every `<Prefix>For*`/`<Prefix>*Model` those versions export
/// for our model types), then to `-with-past` where the architecture exports it, as optimum's
/// `main_export` does for an inferred task.
@Suite struct TaskChoiceTests {
    func config(_ modelType: String, _ architectures: Any?, _ extra: [String: Any] = [:]) -> ConfigReader {
        var fields: [String: Any] = ["model_type": modelType]
        if let architectures { fields["architectures"] = architectures }
        for (k, v) in extra { fields[k] = v }
        return ConfigReader(origin: "config.json", fields: fields)
    }

    func choose(_ modelType: String, _ architecture: String, _ extra: [String: Any] = [:]) throws -> TaskChoice {
        let c = config(modelType, [architecture], extra)
        let entry = try ArchitectureRegistry.entry(for: modelType, origin: "config.json")
        return try TaskChoice(name: "auto", config: c, supported: entry.tasks(for: c))
    }

    /// What optimum infers for the class (with -with-past added where we export it).
    static let optimum: [(modelType: String, architecture: String, task: String)] = [
        ("bert", "BertModel", "feature-extraction"), ("bert", "BertForMaskedLM", "fill-mask"),
        ("bert", "BertForSequenceClassification", "text-classification"), ("bert", "BertForTokenClassification", "token-classification"),
        ("bert", "BertForQuestionAnswering", "question-answering"), ("bert", "BertForMultipleChoice", "multiple-choice"),
        ("roberta", "RobertaModel", "feature-extraction"), ("roberta", "RobertaForMaskedLM", "fill-mask"),
        ("roberta", "RobertaForSequenceClassification", "text-classification"), ("roberta", "RobertaForMultipleChoice", "multiple-choice"),
        ("xlm-roberta", "XLMRobertaModel", "feature-extraction"), ("xlm-roberta", "XLMRobertaForQuestionAnswering", "question-answering"),
        ("xlm-roberta", "XLMRobertaForTokenClassification", "token-classification"),
        ("distilbert", "DistilBertModel", "feature-extraction"), ("distilbert", "DistilBertForMaskedLM", "fill-mask"),
        ("distilbert", "DistilBertForQuestionAnswering", "question-answering"),
        ("electra", "ElectraModel", "feature-extraction"), ("electra", "ElectraForMaskedLM", "fill-mask"),
        ("electra", "ElectraForSequenceClassification", "text-classification"), ("electra", "ElectraForMultipleChoice", "multiple-choice"),
        ("albert", "AlbertModel", "feature-extraction"), ("albert", "AlbertForMaskedLM", "fill-mask"),
        ("albert", "AlbertForTokenClassification", "token-classification"),
        ("mpnet", "MPNetModel", "feature-extraction"), ("mpnet", "MPNetForMaskedLM", "fill-mask"),
        ("mpnet", "MPNetForQuestionAnswering", "question-answering"),
        ("deberta-v2", "DebertaV2Model", "feature-extraction"), ("deberta-v2", "DebertaV2ForMaskedLM", "fill-mask"),
        ("deberta-v2", "DebertaV2ForSequenceClassification", "text-classification"),
        // XLM's LM head is in transformers' masked-LM mapping before its causal-LM one.
        ("xlm", "XLMModel", "feature-extraction"), ("xlm", "XLMWithLMHeadModel", "fill-mask"),
        ("xlm", "XLMForQuestionAnsweringSimple", "question-answering"), ("xlm", "XLMForMultipleChoice", "multiple-choice"),
        ("xlm", "XLMForSequenceClassification", "text-classification"),
        ("xlnet", "XLNetModel", "feature-extraction"), ("xlnet", "XLNetLMHeadModel", "text-generation"),
        ("xlnet", "XLNetForQuestionAnsweringSimple", "question-answering"), ("xlnet", "XLNetForTokenClassification", "token-classification"),
        ("xlnet", "XLNetForSequenceClassification", "text-classification"), ("xlnet", "XLNetForMultipleChoice", "multiple-choice"),
        ("t5", "T5Model", "feature-extraction"), ("t5", "T5ForConditionalGeneration", "text2text-generation-with-past"),
        ("mt5", "MT5ForConditionalGeneration", "text2text-generation-with-past"), ("umt5", "UMT5ForConditionalGeneration", "text2text-generation-with-past"),
        ("gpt2", "GPT2Model", "feature-extraction"), ("gpt2", "GPT2LMHeadModel", "text-generation-with-past"),
        ("gpt2", "GPT2ForSequenceClassification", "text-classification"), ("gpt2", "GPT2ForTokenClassification", "token-classification"),
        ("openai-gpt", "OpenAIGPTModel", "feature-extraction"), ("openai-gpt", "OpenAIGPTLMHeadModel", "text-generation-with-past"),
        ("openai-gpt", "OpenAIGPTForSequenceClassification", "text-classification"),
        ("llama", "LlamaModel", "feature-extraction"), ("llama", "LlamaForCausalLM", "text-generation-with-past"),
        ("llama", "LlamaForSequenceClassification", "text-classification"), ("llama", "LlamaForTokenClassification", "token-classification"),
        ("mistral", "MistralForCausalLM", "text-generation-with-past"), ("qwen2", "Qwen2ForCausalLM", "text-generation-with-past"),
        ("qwen3", "Qwen3ForCausalLM", "text-generation-with-past"), ("qwen3", "Qwen3ForTokenClassification", "token-classification"),
        ("phi3", "Phi3ForCausalLM", "text-generation-with-past"), ("phi3", "Phi3ForSequenceClassification", "text-classification"),
        ("gemma", "GemmaForCausalLM", "text-generation-with-past"), ("gemma", "GemmaModel", "feature-extraction"),
        ("transfo-xl", "TransfoXLModel", "feature-extraction"), ("transfo-xl", "TransfoXLLMHeadModel", "text-generation-with-past"),
    ]

    @Test func everyClassMapsAsOptimumMapsIt() throws {
        for (modelType, architecture, task) in Self.optimum {
            let choice = try choose(modelType, architecture)
            #expect(choice.task.rawValue == task, "\(architecture)")
            #expect(choice.description == "task: \(task) (from architectures: \(architecture))")
        }
    }

    /// Classes no transformers auto-class lists, where optimum gives up.
    @Test func classesOptimumCannotMap() throws {
        // optimum's synonym "pretraining" is feature-extraction.
        for (type, name) in [("bert", "BertForPreTraining"), ("albert", "AlbertForPreTraining"), ("electra", "ElectraForPreTraining")] {
            let choice = try choose(type, name)
            #expect(choice.task == .featureExtraction)
            #expect(choice.reason?.contains("pretraining") == true)
        }
        // The language-model head of the double-heads models.
        #expect(try choose("gpt2", "GPT2DoubleHeadsModel").task == .textGenerationWithPast)
        #expect(try choose("openai-gpt", "OpenAIGPTDoubleHeadsModel").task == .textGenerationWithPast)
        for type in ["t5", "mt5", "umt5"] {
            #expect(try choose(type, type.uppercased() + "EncoderModel").task == .featureExtraction)
        }
        #expect(try choose("t5", "T5WithLMHeadModel").task == .text2textGenerationWithPast)
        // Beam-search QA heads and next-sentence prediction: no task; feature-extraction, naming the class.
        for (type, name) in [("xlm", "XLMForQuestionAnswering"), ("xlnet", "XLNetForQuestionAnswering"), ("bert", "BertForNextSentencePrediction")] {
            let choice = try choose(type, name)
            #expect(choice.task == .featureExtraction)
            #expect(choice.reason?.hasPrefix(name + " ") == true, "\(choice)")
        }
    }

    @Test func noArchitecturesIsFeatureExtractionAndSaysSo() throws {
        for architectures in [nil, [] as [String]] as [Any?] {
            let choice = try TaskChoice(name: "auto", config: config("bert", architectures), supported: Task.encoderTasks)
            #expect(choice.task == .featureExtraction)
            #expect(choice.description == "task: feature-extraction (config.json names no architectures; pass --task to choose another)")
        }
        #expect(throws: ExportError.self) { try TaskChoice(name: "auto", config: config("bert", "BertModel"), supported: Task.encoderTasks) }
    }

    /// A class whose task the architecture does not export is an error naming both.
    @Test func inferredTaskTheModelDoesNotExportIsRefused() throws {
        for (type, name, task) in [("bert", "BertLMHeadModel", "text-generation"), ("llama", "LlamaForQuestionAnswering", "question-answering"),
                                   ("transfo-xl", "TransfoXLForSequenceClassification", "text-classification"),
                                   ("roberta", "RobertaForCausalLM", "text-generation")] {
            let error = #expect(throws: ExportError.self) { try choose(type, name) }
            #expect(error?.message.contains("\(name), a \(task) model, but model_type \(type) exports only") == true, "\(error?.message ?? "")")
        }
    }

    /// Transformer-XL keeping no memory (mem_len 0) has no with-past form: its LM head is text-generation.
    @Test func withPastOnlyWhereTheConfigCarriesACache() throws {
        #expect(try choose("transfo-xl", "TransfoXLLMHeadModel", ["mem_len": 0]).task == .textGeneration)
        #expect(try choose("transfo-xl", "TransfoXLLMHeadModel", ["mem_len": 6]).task == .textGenerationWithPast)
        #expect(try choose("xlnet", "XLNetLMHeadModel").task == .textGeneration)
    }

    @Test func aNamedTaskWinsOverArchitectures() throws {
        let c = config("llama", ["LlamaForCausalLM"])
        let choice = try TaskChoice(name: "sentiment-analysis", config: c, supported: Task.decoderTasks)
        #expect(choice == TaskChoice(task: .textClassification))
        #expect(choice.description == "task: text-classification")
        #expect(try TaskChoice(name: "AUTO", config: c, supported: Task.decoderTasks).task == .textGenerationWithPast)
    }
}
