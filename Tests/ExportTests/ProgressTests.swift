import Foundation
import Synchronization
import Testing
@testable import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// `ExportOptions.progress` and `ConvertOptions.progress`: reports that only grow, end once at
/// the total, and come from the weight bytes the writers count.
@Suite struct ProgressTests {
    /// Collects the reports of one export (they arrive from the reporter's thread).
    final class Reports: Sendable {
        let all = Mutex<[ExportProgress]>([])
        var callback: @Sendable (ExportProgress) -> Void { { p in self.all.withLock { $0.append(p) } } }
        var list: [ExportProgress] { all.withLock { $0 } }
    }

    /// Monotone, one finished report and it is the last, bytes ending exactly at a constant total.
    func expectWellFormed(_ reports: [ExportProgress]) throws {
        let last = try #require(reports.last)
        #expect(last.finished)
        #expect(reports.dropLast().allSatisfy { !$0.finished })
        #expect(last.bytesWritten == last.totalBytes)
        #expect(last.totalBytes > 0)
        #expect(reports.allSatisfy { $0.totalBytes == last.totalBytes && $0.bytesWritten <= $0.totalBytes })
        for (a, b) in zip(reports, reports.dropFirst()) {
            #expect(a.bytesWritten <= b.bytesWritten)
            #expect(a.seconds <= b.seconds)
        }
    }

    /// Runs `body` with a callback collecting the reports; its result and the reports, checked.
    func reporting<R>(_ body: (@escaping @Sendable (ExportProgress) -> Void) throws -> R) throws -> (R, [ExportProgress]) {
        let reports = Reports()
        let result = try body(reports.callback)
        try expectWellFormed(reports.list)
        return (result, reports.list)
    }

    @Test(arguments: [ExternalDataMode.never, .always])
    func exportReportsEveryWeightByteOnce(mode: ExternalDataMode) throws {
        let ckpt = try TinyCheckpoint.gpt2()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "progress-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (report, list) = try reporting { callback in
            var options = ExportOptions(modelFolder: ckpt.folder, task: "text-generation-with-past", outputFolder: out)
            options.externalData = mode
            options.progress = callback
            options.progressInterval = 0.0001
            return try Exporter.export(options)
        }
        let total = try #require(list.last).totalBytes
        // Every checkpoint weight is written once (the tied head is the embedding), plus the
        // graph's few constants; headers and padding are not counted.
        let checkpointBytes = try SafetensorsReader.open(folder: ckpt.folder).tensors.values.reduce(0) { $0 + $1.byteCount }
        #expect(total >= checkpointBytes)
        #expect(total < report.modelBytes + report.dataBytes)
        #expect(list.last?.file == "model.onnx")
        #expect(Set(list.map(\.file)).isSubset(of: mode == .always ? ["model.onnx_data", "model.onnx"] : ["model.onnx"]))
    }

    /// An encoder-decoder's files share one data file: its bytes and each model file's inline
    /// ones make one total.
    @Test func bundleReportsOneTotalOverItsFiles() throws {
        let ckpt = try TinyCheckpoint.t5()
        defer { ckpt.remove() }
        let out = NSTemporaryDirectory() + "progress-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (report, list) = try reporting { callback in
            var options = ExportOptions(modelFolder: ckpt.folder, task: "text2text-generation-with-past", outputFolder: out)
            options.progress = callback
            options.progressInterval = 0.0001
            return try Exporter.export(options)
        }
        #expect(report.files.count == 4)
        #expect(Set(list.map(\.file)).isSubset(of: Set(report.files.map { ($0.path as NSString).lastPathComponent } + ["model.onnx_data"])))
        #expect(try #require(list.last).totalBytes < report.modelBytes + report.dataBytes)
    }

    /// Nothing is reported before the writer knows its total; after `abandon` (a failed write)
    /// nothing more is, and no report says finished.
    @Test func reporterIsSilentBeforeTheTotalAndAfterAbandoning() throws {
        let reports = Reports()
        let reporter = try #require(ProgressReporter.start(reports.callback, interval: 0.0005))
        Thread.sleep(forTimeInterval: 0.02)
        #expect(reports.list.isEmpty)
        reporter.meter.begin(total: 100, file: "f")
        reporter.meter.add(40)
        Thread.sleep(forTimeInterval: 0.02)
        reporter.abandon()
        let count = reports.list.count
        Thread.sleep(forTimeInterval: 0.02)
        #expect(reports.list.count == count)
        #expect(reports.list.allSatisfy { !$0.finished && $0.bytesWritten == 40 && $0.totalBytes == 100 })
        #expect(ProgressReporter.start(nil, interval: 0.25) == nil)
    }

    @Test func conversionReportsTheWeightsFile() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tf/bert").path
        for format in ConvertOptions.Format.allCases {
            let out = NSTemporaryDirectory() + "progress-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: out) }
            let (report, list) = try reporting { callback in
                var options = ConvertOptions(modelType: "bert", checkpoint: fixtures + "/bert_model.ckpt", outputFolder: out)
                options.format = format
                options.progress = callback
                options.progressInterval = 0.0001
                return try Converter.convert(options)
            }
            #expect(list.last?.totalBytes == report.weightBytes)
            #expect(list.last?.file == (format == .safetensors ? "model.safetensors" : "pytorch_model.bin"))
        }
    }
}
