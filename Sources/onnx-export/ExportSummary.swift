import Foundation
import ONNXExport

/// The lines the CLI prints after an export: what was written, with axes, sizes and time.
struct ExportSummary {
    let report: ExportReport
    init(_ report: ExportReport) { self.report = report }

    var text: String {
        var lines = ["Exported \(report.modelType) for \(report.task) to \(report.modelPath)"]
        if report.files.count > 1 {
            lines[0] = "Exported \(report.modelType) for \(report.task) to \(((report.modelPath as NSString).deletingLastPathComponent))"
        }
        lines.append("  opset \(report.opset), \(report.dtype), ir_version \(report.irVersion), \(report.nodeCount) nodes, \(report.initializerCount) initializers")
        if let quantization = report.quantization {
            lines.append("  weights: \(quantization.blocks) (com.microsoft.MatMulNBits, accuracy level \(quantization.accuracyLevel)) in \(report.quantizedProducts) matrix products")
        }
        let width = report.files.flatMap { $0.inputs + $0.outputs }.map(\.name.count).max() ?? 0
        for file in report.files {
            if report.files.count > 1 { lines.append("  \((file.path as NSString).lastPathComponent) (\(Self.bytes(file.bytes))):") }
            let indent = report.files.count > 1 ? "  " : ""
            lines.append("\(indent)  inputs:")
            for p in file.inputs { lines.append("\(indent)    \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type)") }
            lines.append("\(indent)  outputs:")
            for p in file.outputs { lines.append("\(indent)    \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type)") }
        }
        var files = report.files.count > 1
            ? "  files: \(report.files.count) models \(Self.bytes(report.modelBytes))"
            : "  files: model.onnx \(Self.bytes(report.modelBytes))"
        if let data = report.dataPath { files += ", \((data as NSString).lastPathComponent) \(Self.bytes(report.dataBytes))" }
        lines.append(files)
        if !report.copiedFiles.isEmpty {
            lines.append("  copied: " + report.copiedFiles.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
        lines.append(String(format: "  time: %.2f s", report.seconds))
        return lines.joined(separator: "\n")
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
