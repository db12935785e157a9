import Foundation
import ONNXExport

/// The progress line the CLI draws on stderr while weights are written: the file, a bar, bytes
/// written of the total, the rate and the time left, redrawn in place with `\r` at each report
/// (about 4 a second) and ended with a last line when the write completes:
///
///     model.onnx_data  [#########---------------]  38%  1.2 GB of 3.1 GB  610.2 MB/s  3 s left
///
/// Only where stderr is a terminal: piped or redirected stderr (logs, CI) gets nothing, so it
/// holds only errors. Exports done within about a second draw nothing either.
final class ProgressLine: @unchecked Sendable {
    /// Writes shorter than this, counted from the start of the command, show no progress.
    static let delay = 1.0
    static let barWidth = 24

    private let started = Date()
    private let lock = NSLock()
    private var drawn = false
    private var ended = false

    /// A line for this process's stderr, or nil when it must stay silent (`--quiet`, or stderr
    /// is not a terminal).
    static func forStandardError(quiet: Bool) -> ProgressLine? {
        quiet || isatty(STDERR_FILENO) == 0 ? nil : ProgressLine()
    }

    /// The callback for `ExportOptions.progress` / `ConvertOptions.progress`.
    var report: @Sendable (ExportProgress) -> Void { { [self] in draw($0) } }

    func draw(_ progress: ExportProgress) {
        lock.lock()
        defer { lock.unlock() }
        guard !ended, drawn || (!progress.finished && Date().timeIntervalSince(started) >= Self.delay) else { return }
        let text = progress.finished ? Self.summary(progress) : Self.line(progress)
        // \u{1B}[K clears what a longer earlier line left to the right.
        Self.write("\r" + text + "\u{1B}[K" + (progress.finished ? "\n" : ""))
        drawn = true
        ended = progress.finished
    }

    /// Ends a line a failed write left open, so the error message starts on a line of its own.
    func end() {
        lock.lock()
        defer { lock.unlock() }
        if drawn && !ended { Self.write("\n") }
        ended = true
    }

    static func line(_ p: ExportProgress) -> String {
        let fraction = p.totalBytes > 0 ? min(1, Double(p.bytesWritten) / Double(p.totalBytes)) : 0
        let filled = Int(fraction * Double(barWidth))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "]"
        var parts = [p.file, bar, String(format: "%3d%%", Int(fraction * 100)),
                     "\(ExportSummary.bytes(p.bytesWritten)) of \(ExportSummary.bytes(p.totalBytes))"]
        if let rate = p.bytesPerSecond { parts.append("\(ExportSummary.bytes(Int(rate)))/s") }
        if let left = p.secondsLeft { parts.append("\(duration(left)) left") }
        return parts.joined(separator: "  ")
    }

    static func summary(_ p: ExportProgress) -> String {
        var text = "wrote \(ExportSummary.bytes(p.bytesWritten)) of weights in \(String(format: "%.1f", p.seconds)) s"
        if let rate = p.bytesPerSecond { text += " (\(ExportSummary.bytes(Int(rate)))/s)" }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 100 * 3600 else { return "?" }
        let s = Int(seconds.rounded(.up))
        return s < 60 ? "\(s) s" : "\(s / 60) min \(s % 60) s"
    }

    private static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
