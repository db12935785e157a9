import Dispatch
import Foundation

/// Runs the integrity checks of the tensors a writer is about to write (`SourceIntegrityCheck`)
/// on a thread of their own while the writer copies them, so a checked weight still moves with
/// `copy_file_range`; the writer calls `finish()` before it keeps any file.
///
/// Checking beside the copy rather than in it: for a 3.1 GB `pytorch_model.bin` in the page cache,
/// reading each weight into memory to checksum it on its way to the output (read, CRC, write) took
/// 6.9–7.3 s where `copy_file_range` took 1.8–3.0 s, while the CRC-32 of the same bytes mapped from
/// the page cache took 0.35–0.46 s on one core, beside the copy. The checks run in the order the
/// writer reads, so the pages one maps are the pages the other copies.
///
/// ```swift
/// let verifier = SourceVerifier(tensors)
/// try write(tensors, to: temporary)
/// try verifier.finish()          // a corrupt source: throws, and the caller drops `temporary`
/// try commit(temporary)
/// ```
public final class SourceVerifier {
    /// What the checking thread shares with the verifier: it outlives a verifier dropped early
    /// (a failed write), which tells it to stop at the next check.
    private final class Run: @unchecked Sendable {
        let lock = NSLock()
        let done = DispatchSemaphore(value: 0)
        var failure: Error?
        var cancelled = false
    }

    private let run: Run?

    /// Starts checking every distinct check of `tensors`, in order (none: nothing starts).
    public init(_ tensors: [TensorData]) {
        var seen = Set<ObjectIdentifier>()
        var checks: [any SourceIntegrityCheck] = []
        for tensor in tensors {
            for check in tensor.integrityChecks where seen.insert(ObjectIdentifier(check)).inserted { checks.append(check) }
        }
        guard !checks.isEmpty else { run = nil; return }
        let run = Run()
        self.run = run
        let ordered = checks
        DispatchQueue.global(qos: .userInitiated).async {
            defer { run.done.signal() }
            for check in ordered {
                run.lock.lock()
                let stop = run.cancelled
                run.lock.unlock()
                if stop { return }
                do { try check.verify() } catch {
                    run.lock.lock()
                    run.failure = error
                    run.lock.unlock()
                    return
                }
            }
        }
    }

    deinit {
        guard let run else { return }
        run.lock.lock()
        run.cancelled = true
        run.lock.unlock()
    }

    /// Waits for every check; throws the first one's error.
    public func finish() throws {
        guard let run else { return }
        run.done.wait()
        run.done.signal()       // a second `finish` returns at once
        run.lock.lock()
        let failure = run.failure
        run.lock.unlock()
        if let failure { throw failure }
    }
}
