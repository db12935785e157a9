import Foundation
import Testing
@testable import ONNXExportIR

@Suite struct TensorPrefetcherTests {
    @Test func prefetchedBytesEqualDirectStreaming() throws {
        let tensors: [TensorData] = try (1...6).map { n in
            try TensorData.float32((0..<(n * 12)).map { Float($0 * n) }, shape: [n * 3, 4]).transposed()
        } + [TensorData.int64([1, 2, 3])]
        let prefetcher = TensorPrefetcher(tensors, sizeLimit: 1 << 20)
        for (i, t) in tensors.enumerated() {
            let sink = ByteCollector()
            try prefetcher.stream(i, into: sink)
            #expect(sink.bytes == (try t.materialize()))
        }
    }

    @Test func aFailingSourceFailsItsOwnTurn() throws {
        let missing = try TensorData.file(FileRegion(path: "/nonexistent/weights.bin", offset: 0, length: 16), dtype: .float32, shape: [2, 2])
        let tensors = [TensorData.float32([1, 2]), try missing.transposed()]
        let prefetcher = TensorPrefetcher(tensors)
        let sink = ByteCollector()
        try prefetcher.stream(0, into: sink)
        #expect(throws: ExportError.self) { try prefetcher.stream(1, into: sink) }
    }
}

@Suite struct TensorPrefetcherShutdownTests {
    /// The writer stops on an error while the next tensor is still being computed: the
    /// prefetcher must wait for that job before freeing its buffer.
    @Test func stoppingEarlyWaitsForTheJobInFlight() throws {
        let missing = try TensorData.file(FileRegion(path: "/nonexistent/w.bin", offset: 0, length: 16), dtype: .float32, shape: [2, 2])
        let big = try TensorData.float32((0..<(512 * 512)).map(Float.init), shape: [512, 512]).transposed()
        for _ in 0..<20 {
            let prefetcher = TensorPrefetcher([try missing.transposed(), big, big])
            #expect(throws: ExportError.self) { try prefetcher.stream(0, into: ByteCollector()) }
        }
    }
}
