import Foundation
import ONNXExportIR

/// How far the writing of an export or conversion has got, handed to `ExportOptions.progress`
/// (and `ConvertOptions.progress`) a few times a second while the weights stream to disk.
///
/// Only weight bytes count (not headers or alignment padding), so `bytesWritten` grows from 0 to
/// exactly `totalBytes`. Nothing is reported while the checkpoint is read and the graph built;
/// those take a small part of a large export.
public struct ExportProgress: Sendable, Equatable {
    /// Weight bytes written so far.
    public var bytesWritten: Int
    /// Weight bytes the write produces in all, known before the first byte.
    public var totalBytes: Int
    /// The file being written (`model.onnx_data`, `model.onnx`, `model.safetensors`).
    public var file: String
    /// Seconds since the write began.
    public var seconds: Double
    /// True once, in the last report, after every file is complete (`bytesWritten == totalBytes`).
    public var finished: Bool

    /// Bytes a second so far, nil before any time has passed.
    public var bytesPerSecond: Double? { seconds > 0 ? Double(bytesWritten) / seconds : nil }

    /// Seconds left at the rate so far, nil while it is unknown.
    public var secondsLeft: Double? {
        guard let rate = bytesPerSecond, rate > 0 else { return nil }
        return Double(totalBytes - bytesWritten) / rate
    }
}

/// Calls a progress callback from a thread of its own every `interval` seconds while a write runs,
/// reading the `ProgressMeter` the writer counts into, so the writer never waits on the callback.
///
/// Reports start once the writer has set the meter's total, never decrease, and end with one
/// `finished` report from the caller's thread after `finish()`; after `abandon()` (the write
/// failed) nothing more is reported. Calls never overlap.
final class ProgressReporter: Sendable {
    let meter = ProgressMeter()
    private let callback: @Sendable (ExportProgress) -> Void
    private let interval: Double
    private let stopRequest = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let began = DispatchTime.now()

    /// Starts reporting; nil when there is no callback (nothing is counted then).
    static func start(_ callback: (@Sendable (ExportProgress) -> Void)?, interval: Double) -> ProgressReporter? {
        guard let callback else { return nil }
        let reporter = ProgressReporter(callback: callback, interval: interval)
        // A thread of its own, not a Dispatch worker: it sleeps most of the time, and the
        // export's kernels spread their work over the Dispatch pool.
        let thread = Thread { reporter.run() }
        thread.name = "onnx-export.progress"
        thread.start()
        return reporter
    }

    private init(callback: @escaping @Sendable (ExportProgress) -> Void, interval: Double) {
        self.callback = callback
        self.interval = interval
    }

    private func run() {
        while stopRequest.wait(timeout: .now() + interval) == .timedOut {
            let progress = current(finished: false)
            if progress.totalBytes > 0 { callback(progress) }
        }
        stopped.signal()
    }

    /// Stops the thread and reports the end.
    func finish() {
        stop()
        callback(current(finished: true))
    }

    /// Stops the thread without a last report.
    func abandon() { stop() }

    private func stop() {
        stopRequest.signal()
        stopped.wait()
    }

    private func current(finished: Bool) -> ExportProgress {
        let (written, total, file) = meter.snapshot
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
        return ExportProgress(bytesWritten: written, totalBytes: total, file: file, seconds: seconds, finished: finished)
    }
}
