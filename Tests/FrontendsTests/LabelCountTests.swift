import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// Where the label count of a classification config comes from, in transformers' order.
@Suite struct LabelCountTests {
    func config(_ fields: [String: Any]) -> ConfigReader { ConfigReader(origin: "config.json", fields: fields) }

    @Test func id2labelThenNumLabelsThenTwo() throws {
        #expect(try LabelCount.declared(by: config(["id2label": ["0": "a", "1": "b", "2": "c"], "num_labels": 7])) == 3)
        #expect(try LabelCount.declared(by: config(["num_labels": 7])) == 7)
        #expect(try LabelCount.declared(by: config([:])) == 2)
        #expect(throws: ExportError.self) { try LabelCount.declared(by: config(["num_labels": 0])) }
    }
}
