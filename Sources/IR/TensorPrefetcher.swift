import Dispatch
import Foundation

/// Computes the bytes of transformed tensors (transposes, dtype conversions, inflated or
/// CRC-checked sources) on a second thread one tensor ahead of the writer, so that CPU work
/// overlaps the previous tensor's write. Plain file ranges are never prefetched: they move kernel
/// to kernel. Memory stays bounded: at most two prefetched tensors of at most `sizeLimit` bytes,
/// in buffers that are reused.
public final class TensorPrefetcher: @unchecked Sendable {
    private let tensors: [TensorData]
    private let sizeLimit: Int
    private let queue = DispatchQueue(label: "onnx-export.prefetch")
    private let lock = NSLock()
    private var jobs: [Int: Job] = [:]
    private var freeBuffers: [UnsafeMutableRawBufferPointer] = []

    private final class Job: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var buffer: UnsafeMutableRawBufferPointer?
        var count = 0
        var error: Error?
    }

    public init(_ tensors: [TensorData], sizeLimit: Int = 64 << 20) {
        self.tensors = tensors
        self.sizeLimit = sizeLimit
    }

    deinit {
        // A job never consumed (the writer stopped on an error) may still be filling its buffer
        // on the prefetch thread: wait for it before freeing the memory it writes to.
        lock.lock()
        let pending = Array(jobs.values)
        jobs.removeAll()
        lock.unlock()
        for job in pending {
            job.done.wait()
            job.buffer?.deallocate()
        }
        for b in freeBuffers { b.deallocate() }
    }

    /// Whether tensor `index` is worth computing ahead.
    func isPrefetchable(_ index: Int) -> Bool {
        guard tensors.indices.contains(index) else { return false }
        let t = tensors[index]
        guard t.byteCount > 0, t.byteCount <= sizeLimit else { return false }
        switch t.storage {
        case .transformed, .produced: return true
        case .inline, .file, .concatenated: return false
        }
    }

    /// Streams tensor `index` into `sink`, from its prefetched bytes when they were computed
    /// ahead, and starts computing the next transformed tensor.
    public func stream(_ index: Int, into sink: TensorByteSink) throws {
        let job = isPrefetchable(index) ? start(index) : nil
        if let next = (index + 1..<tensors.count).first(where: isPrefetchable) { _ = start(next) }
        guard let job else {
            try tensors[index].stream(into: sink)
            return
        }
        job.done.wait()
        lock.lock()
        jobs[index] = nil
        lock.unlock()
        defer { recycle(job.buffer) }
        if let error = job.error { throw error }
        guard let buffer = job.buffer else { return }
        try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<job.count]))
    }

    private func start(_ index: Int) -> Job {
        lock.lock()
        if let existing = jobs[index] { lock.unlock(); return existing }
        let job = Job()
        jobs[index] = job
        let size = tensors[index].byteCount
        let reused = freeBuffers.popLast()
        lock.unlock()
        let buffer: UnsafeMutableRawBufferPointer
        if let reused, reused.count >= size {
            buffer = reused
        } else {
            reused?.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        }
        job.buffer = buffer
        let tensor = tensors[index]
        let sink = BufferSink(buffer: buffer)
        queue.async {
            do {
                try tensor.stream(into: sink)
                job.count = sink.count
            } catch {
                job.error = error
            }
            job.done.signal()
        }
        return job
    }

    private func recycle(_ buffer: UnsafeMutableRawBufferPointer?) {
        guard let buffer else { return }
        lock.lock()
        if freeBuffers.count < 2 { freeBuffers.append(buffer) } else { buffer.deallocate() }
        lock.unlock()
    }
}

/// Writes into a fixed buffer; more bytes than it holds is an error (the source lied about its size).
private final class BufferSink: InPlaceByteSink, @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0
    init(buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let destination = try reserve(bytes.count)
        if let base = bytes.baseAddress, let start = destination.baseAddress, bytes.count > 0 {
            start.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    func fillNext(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try body(try reserve(count))
    }

    /// The next `count` bytes of the buffer, counted as written.
    private func reserve(_ count: Int) throws -> UnsafeMutableRawBufferPointer {
        guard self.count + count <= buffer.count else {
            throw ExportError("a tensor source produced more than its \(buffer.count) bytes")
        }
        defer { self.count += count }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[self.count..<(self.count + count)])
    }

    func copy(from region: FileRegion) throws { try copyByReading(region) }
}
