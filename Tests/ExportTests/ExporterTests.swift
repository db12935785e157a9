import Foundation
import Testing
@testable import ONNXExport
import ONNXExportIR
import ONNXExportBackend
import ONNXExportFrontends

@Suite struct ExporterTests {
    func outputFolder() -> String { NSTemporaryDirectory() + "export-\(UUID().uuidString)" }

    func export(_ ckpt: TinyCheckpoint, task: String = "text-classification", opset: Int = 17, to out: String) throws -> ExportReport {
        var options = ExportOptions(modelFolder: ckpt.folder, task: task, outputFolder: out)
        options.opset = opset
        return try Exporter.export(options)
    }

    @Test(arguments: [11, 13, 17, 20, 23, 28])
    func exportsAtEveryOpsetWithDynamicAxes(opset: Int) throws {
        let ckpt = try TinyCheckpoint.bert()
        defer { ckpt.remove() }
        let out = outputFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let report = try export(ckpt, opset: opset, to: out)
        #expect(FileManager.default.fileExists(atPath: out + "/model.onnx"))
        #expect(FileManager.default.fileExists(atPath: out + "/config.json"))
        #expect(report.inputs.map(\.name) == ["input_ids", "attention_mask", "token_type_ids"])
        #expect(report.inputs[0].type.shape == [.batchSize, .sequenceLength])
        #expect(report.outputs.map(\.name) == ["logits"])
        #expect(report.outputs[0].type.shape == [.batchSize, 5])
        #expect(report.irVersion == Opsets.irVersion(for: opset))
    }

    @Test func sentimentAnalysisIsAnAliasAndUnknownTasksListTheChoices() throws {
        #expect(try Task(name: "sentiment-analysis") == .textClassification)
        #expect(try Task(name: "ner") == .tokenClassification)
        let error = #expect(throws: ExportError.self) { try Task(name: "summarize-poems") }
        #expect(error?.message.contains("question-answering") == true)
    }

    @Test func missingWeightIsNamedAndNothingIsWritten() throws {
        let ckpt = try TinyCheckpoint.bert(skipping: ["bert.encoder.layer.1.output.dense.weight"])
        defer { ckpt.remove() }
        let out = outputFolder()
        let error = #expect(throws: ExportError.self) { try export(ckpt, to: out) }
        #expect(error?.message.contains("bert.encoder.layer.1.output.dense.weight") == true)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func unknownModelTypeListsSupportedOnes() throws {
        let ckpt = try TinyCheckpoint.bert(config: ["model_type": "perceiver"])
        defer { ckpt.remove() }
        let error = #expect(throws: ExportError.self) { try export(ckpt, to: outputFolder()) }
        #expect(error?.message.contains("perceiver") == true)
        #expect(error?.message.contains("roberta") == true)
    }

    @Test func badConfigValuesNameTheKey() throws {
        let ckpt = try TinyCheckpoint.bert(config: ["num_attention_heads": "three"])
        defer { ckpt.remove() }
        let error = #expect(throws: ExportError.self) { try export(ckpt, to: outputFolder()) }
        #expect(error?.message.contains("num_attention_heads") == true)
        let odd = try TinyCheckpoint.bert(config: ["num_attention_heads": 5])
        defer { odd.remove() }
        #expect(throws: ExportError.self) { try export(odd, to: outputFolder()) }
    }

    @Test func missingAndInvalidConfigAreRefused() throws {
        let ckpt = try TinyCheckpoint.bert()
        defer { ckpt.remove() }
        try "{not json".write(toFile: ckpt.folder + "/config.json", atomically: true, encoding: .utf8)
        let invalid = #expect(throws: ExportError.self) { try export(ckpt, to: outputFolder()) }
        #expect(invalid?.message.contains("not valid JSON") == true)
        try FileManager.default.removeItem(atPath: ckpt.folder + "/config.json")
        let missing = #expect(throws: ExportError.self) { try export(ckpt, to: outputFolder()) }
        #expect(missing?.message.contains("config.json") == true)
    }

    @Test func nonEmptyOutputFolderNeedsForce() throws {
        let ckpt = try TinyCheckpoint.bert()
        defer { ckpt.remove() }
        let out = outputFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "keep".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        let error = #expect(throws: ExportError.self) { try export(ckpt, to: out) }
        #expect(error?.message.contains("--force") == true)
        #expect(!FileManager.default.fileExists(atPath: out + "/model.onnx"))
        var options = ExportOptions(modelFolder: ckpt.folder, task: "text-classification", outputFolder: out)
        options.force = true
        _ = try Exporter.export(options)
        #expect(FileManager.default.fileExists(atPath: out + "/model.onnx"))
        #expect(FileManager.default.fileExists(atPath: out + "/notes.txt"))
    }

    @Test func opsetOutsideTheRangeIsRefused() throws {
        let ckpt = try TinyCheckpoint.bert()
        defer { ckpt.remove() }
        let error = #expect(throws: ExportError.self) { try export(ckpt, opset: 10, to: outputFolder()) }
        #expect(error?.message.contains("opset 10") == true)
    }
}
