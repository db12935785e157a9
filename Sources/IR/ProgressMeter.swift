import Synchronization

/// Counts the weight bytes a write has put into its output files, so another thread can report
/// progress while the writer runs. The writer adds what each buffer or copy chunk moved (one
/// relaxed atomic add per call, never per byte, so counting costs nothing measurable); a reporter
/// reads `snapshot` a few times a second.
///
/// Only weight payloads are counted (`OutputFile.counting`), not the headers between them, so
/// the count ends exactly at `total`, which the writer knows before it starts: the bytes of the
/// tensors it is about to stream.
public final class ProgressMeter: Sendable {
    private let done = Atomic<Int>(0)
    private let expected = Atomic<Int>(0)
    private let file = Mutex<String>("")

    public init() {}

    /// The weight bytes the write will produce, and the file it writes first, set once the
    /// layout is known (before the first byte). The name is set first, so no report with a
    /// total lacks a file.
    public func begin(total: Int, file first: String) {
        writing(first)
        expected.store(total, ordering: .relaxed)
    }

    /// The file now being written (its final name, not the temporary one).
    public func writing(_ fileName: String) { file.withLock { $0 = fileName } }

    public func add(_ bytes: Int) { done.add(bytes, ordering: .relaxed) }

    /// Bytes written so far, bytes expected (0 before `begin`), and the file being written.
    public var snapshot: (written: Int, total: Int, file: String) {
        (done.load(ordering: .relaxed), expected.load(ordering: .relaxed), file.withLock { $0 })
    }
}
