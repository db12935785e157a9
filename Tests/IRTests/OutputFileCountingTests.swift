import Foundation
import Testing
@testable import ONNXExportIR

/// `OutputFile.counting`: every byte written inside it counts into the meter, through buffered
/// writes, large writes and `copy_file_range` copies alike; bytes written outside it do not.
@Suite struct OutputFileCountingTests {
    @Test func countsExactlyTheBytesWrittenInside() throws {
        #expect(OutputFile.copyChunk <= 64 << 20, "progress must move within a large tensor's copy")
        let dir = NSTemporaryDirectory() + "counting-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source"
        let sourceBytes = (0..<(300_000 + 5)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(sourceBytes).write(to: URL(fileURLWithPath: source))

        let meter = ProgressMeter()
        meter.begin(total: 10 + (2 << 20) + sourceBytes.count - 3, file: "out")
        let file = try OutputFile(path: dir + "/out")
        try file.write([UInt8](repeating: 7, count: 100))                      // a header: not counted
        try file.counting(into: meter) {
            try file.write([UInt8](repeating: 1, count: 10))                   // buffered
            try file.write([UInt8](repeating: 2, count: 2 << 20))              // past the buffer
            try file.copy(from: FileRegion(path: source, offset: 3, length: sourceBytes.count - 3))  
        }
        try file.writeZeros(50)                                                // padding: not counted
        try file.flush()
        let (written, total, _) = meter.snapshot
        #expect(written == total)
        #expect(file.position == 100 + total + 50)
        let out = try Data(contentsOf: URL(fileURLWithPath: dir + "/out"))
        #expect(out.count == file.position)
        #expect(Array(out[(100 + 10 + (2 << 20))...].prefix(sourceBytes.count - 3)) == Array(sourceBytes[3...]))
    }
}
