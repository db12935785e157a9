import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// `genai_config.json`, which onnxruntime-genai reads beside `model.onnx` (`--genai`): the model
/// type it implements, the decoder's sizes, the names of our inputs and outputs, the special token
/// ids, and the search defaults, from config.json and generation_config.json. Our graph takes the
/// KV cache as `past_key_values.N.*` and returns it grown by the new tokens: the portable graph
/// concatenates, so the runtime keeps separate past and present buffers; a `--target onnxruntime`
/// graph whose every layer caches through `GroupQueryAttention` lets it share one buffer
/// (`past_present_share_buffer`), as the builder's graphs do.
enum GenAIConfig {
    /// Our model types onnxruntime-genai implements, and the type name it knows each by (its
    /// `model_type.h`, checked with onnxruntime-genai 0.18 on every decoder fixture). Its `gpt2`
    /// type wants other inputs than optimum's and does not load our GPT-2 graph.
    static let types: [String: String] = [
        "llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen3": "qwen3", "phi3": "phi3", "gemma": "gemma",
    ]

    /// Refuses an export `--genai` cannot serve, before anything is written.
    static func check(modelType: String, task: Task) throws -> String {
        guard task == .textGenerationWithPast else {
            throw ExportError("--genai writes onnxruntime-genai's config for a model with a KV cache: use --task text-generation-with-past, not \(task.rawValue)")
        }
        guard let type = types[modelType] else {
            throw ExportError("--genai: onnxruntime-genai has no implementation of model_type \(modelType); it runs \(types.keys.sorted().joined(separator: ", ")) among ours")
        }
        return type
    }

    /// The file's JSON. `generation` is the checkpoint's generation_config.json, where it has one.
    static func json(type: String, model: DecoderModel, config c: ConfigReader, generation g: ConfigReader?,
                     target: ExportTarget = .portable) throws -> Data {
        func id(_ key: String) throws -> Any? {
            for source in [g, c].compactMap({ $0 }) where source.has(key) {
                if let list = source.fields[key] as? [Any] { return list.count == 1 ? list[0] : list }
                return try source.int(key)
            }
            return nil
        }
        let context = try ["max_position_embeddings", "n_positions", "n_ctx"].first(where: c.has).map { try c.positiveInt($0) } ?? 2048
        let eos = try id("eos_token_id")
        let modelSection: [String: Any] = [
            "type": type,
            "vocab_size": try c.positiveInt(c.has("vocab_size") ? "vocab_size" : "n_vocab"),
            "context_length": context,
            "bos_token_id": try id("bos_token_id") ?? NSNull(),
            "eos_token_id": eos ?? NSNull(),
            // No pad id: the end of sequence pads, as the model builder does.
            "pad_token_id": try id("pad_token_id") ?? eos ?? NSNull(),
            "decoder": [
                "session_options": ["log_id": "onnxruntime-genai", "provider_options": [Any]()],
                "filename": "model.onnx",
                "head_size": model.headSize,
                "hidden_size": model.modelWidth,
                "num_attention_heads": model.attentionHeads,
                "num_key_value_heads": model.keyValueHeads,
                "num_hidden_layers": model.layerCount,
                "inputs": ["input_ids": "input_ids", "attention_mask": "attention_mask", "position_ids": "position_ids",
                           "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"],
                "outputs": ["logits": "logits", "present_key_names": "present.%d.key", "present_value_names": "present.%d.value"],
            ] as [String: Any],
        ]
        func search(_ key: String, _ fallback: Any) throws -> Any {
            guard let g, g.has(key) else { return fallback }
            switch fallback {
            case is Bool: return try g.bool(key)
            case is Int: return try g.int(key)
            default: return try g.double(key)
            }
        }
        let searchSection: [String: Any] = [
            "do_sample": try search("do_sample", false),
            "max_length": try search("max_length", context),
            "min_length": try search("min_length", 0),
            "num_beams": try search("num_beams", 1),
            "num_return_sequences": try search("num_return_sequences", 1),
            "temperature": try search("temperature", 1.0),
            "top_k": try search("top_k", 50),
            "top_p": try search("top_p", 1.0),
            "repetition_penalty": try search("repetition_penalty", 1.0),
            "length_penalty": try search("length_penalty", 1.0),
            "no_repeat_ngram_size": try search("no_repeat_ngram_size", 0),
            "diversity_penalty": try search("diversity_penalty", 0.0),
            "early_stopping": true,
            "past_present_share_buffer": model.sharesCacheBuffer(for: target),
        ]
        return try JSONSerialization.data(withJSONObject: ["model": modelSection, "search": searchSection], options: [.prettyPrinted, .sortedKeys])
    }
}
