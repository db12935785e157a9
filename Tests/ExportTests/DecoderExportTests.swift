import Foundation
import Testing
@testable import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

@Suite struct DecoderExportTests {
    @Test(arguments: [11, 17, 23])
    func withPastFollowsTheCacheContract(opset: Int) throws {
        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "decoder-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        var options = ExportOptions(modelFolder: ckpt.folder, task: "text-generation-with-past", outputFolder: out)
        options.opset = opset
        let report = try Exporter.export(options)
        let total = Dim.pastSequenceLength + .sequenceLength
        #expect(report.inputs.map(\.name) == ["input_ids", "attention_mask", "position_ids",
                                              "past_key_values.0.key", "past_key_values.0.value",
                                              "past_key_values.1.key", "past_key_values.1.value"])
        #expect(report.inputs[1].type.shape == [.batchSize, total])
        #expect(report.inputs[3].type.shape == [.batchSize, 3, .pastSequenceLength, 4])
        #expect(report.outputs.map(\.name) == ["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"])
        #expect(report.outputs[0].type.shape == [.batchSize, .sequenceLength, 40])
        #expect(report.outputs[1].type.shape == [.batchSize, 3, total, 4])
    }

    @Test func tiedEmbeddingIsStoredOnce() throws {
        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let (spec, weightBytes) = try ckpt.loweredTextGeneration(GPT2.entry)
        #expect(spec.graph.initializers.filter { $0.name == "transformer.wte.weight" }.count == 1)
        let written = spec.graph.initializers.reduce(0) { $0 + $1.data.byteCount }
        #expect(written <= weightBytes + 4096)
    }

    @Test func encoderTasksAreRefusedForDecoders() throws {
        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let options = ExportOptions(modelFolder: ckpt.folder, task: "fill-mask", outputFolder: NSTemporaryDirectory() + UUID().uuidString)
        let error = #expect(throws: ExportError.self) { try Exporter.export(options) }
        #expect(error?.message.contains("text-generation-with-past") == true)
    }
}
