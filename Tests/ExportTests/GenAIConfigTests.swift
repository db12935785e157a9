import Foundation
import Testing
@testable import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// `--genai`: what genai_config.json says, and the exports it refuses before writing anything.
@Suite struct GenAIConfigTests {
    @Test func refusesOtherTasksAndUnimplementedTypes() throws {
        #expect(try GenAIConfig.check(modelType: "llama", task: .textGenerationWithPast) == "llama")
        let task = #expect(throws: ExportError.self) { try GenAIConfig.check(modelType: "llama", task: .textGeneration) }
        #expect(task?.message.contains("text-generation-with-past") == true)
        let type = #expect(throws: ExportError.self) { try GenAIConfig.check(modelType: "openai-gpt", task: .textGenerationWithPast) }
        #expect(type?.message.contains("openai-gpt") == true && type?.message.contains("llama") == true)

        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "genai-\(UUID().uuidString)"
        var options = ExportOptions(modelFolder: ckpt.folder, task: "text-generation-with-past", outputFolder: out)
        options.genai = true
        #expect(throws: ExportError.self) { try Exporter.export(options) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func sizesNamesAndGenerationDefaults() throws {
        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let config = try ConfigReader(file: ckpt.folder + "/config.json")
        let model = try GPT2.entry.make(config, try SafetensorsReader.open(folder: ckpt.folder))
        let decoder = try #require(model as? DecoderModel)
        let generation = ConfigReader(origin: "generation_config.json", fields: ["eos_token_id": [7, 9], "bos_token_id": 3,
                                                                               "do_sample": true, "top_k": 5, "temperature": 0.7])
        let data = try GenAIConfig.json(type: "llama", model: decoder, config: config, generation: generation)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let m = try #require(json["model"] as? [String: Any]), d = try #require(m["decoder"] as? [String: Any])
        let search = try #require(json["search"] as? [String: Any])
        #expect(m["context_length"] as? Int == 32 && m["vocab_size"] as? Int == 40)
        #expect(m["eos_token_id"] as? [Int] == [7, 9] && m["bos_token_id"] as? Int == 3)
        #expect(m["pad_token_id"] as? [Int] == [7, 9])  // no pad id anywhere: the end of sequence pads
        #expect(d["head_size"] as? Int == 4 && d["hidden_size"] as? Int == 12 && d["num_hidden_layers"] as? Int == 2)
        #expect(d["num_attention_heads"] as? Int == 3 && d["num_key_value_heads"] as? Int == 3)
        #expect((d["inputs"] as? [String: String])?["past_key_names"] == "past_key_values.%d.key")
        #expect(search["do_sample"] as? Bool == true && search["top_k"] as? Int == 5 && search["temperature"] as? Double == 0.7)
        #expect(search["max_length"] as? Int == 32 && search["past_present_share_buffer"] as? Bool == false)
    }
}
