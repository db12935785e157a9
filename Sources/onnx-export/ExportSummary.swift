import Foundation
import ONNXExport

/// The lines the CLI prints after an export: what was written, with axes, sizes and time.
struct ExportSummary {
    let report: ExportReport
    init(_ report: ExportReport) { self.report = report }

    var text: String {
        var lines = ["Exported \(report.modelType) for \(report.task) to \(report.modelPath)"]
        lines.append("  opset \(report.opset), \(report.dtype), ir_version \(report.irVersion), \(report.nodeCount) nodes, \(report.initializerCount) initializers")
        let width = (report.inputs + report.outputs).map(\.name.count).max() ?? 0
        lines.append("  inputs:")
        for p in report.inputs { lines.append("    \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type)") }
        lines.append("  outputs:")
        for p in report.outputs { lines.append("    \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type)") }
        var files = "  files: model.onnx \(Self.bytes(report.modelBytes))"
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
