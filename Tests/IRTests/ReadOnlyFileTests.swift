import Foundation
import Testing
@testable import ONNXExportIR

/// Mapped reads of a checkpoint that changes under the export must fail with an error, never
/// fault: a page mapped past the end of a truncated file raises SIGBUS when touched.
@Suite struct ReadOnlyFileTests {
    private func scratchFile(bytes: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("readonlyfile-\(UUID().uuidString)").path
        try Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func mappedBytesMatchTheFile() throws {
        let path = try scratchFile(bytes: 3 * 4096 + 17)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ReadOnlyFile(path: path)
        let got = try file.withMappedBytes(at: 4095, count: 4100) { Array($0) }
        #expect(got == (4095..<8195).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test func fileTruncatedAfterOpeningIsAnErrorNotAFault() throws {
        let path = try scratchFile(bytes: 64 * 1024)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ReadOnlyFile(path: path)
        #expect(truncate(path, 4096) == 0)
        #expect(throws: ExportError.self) {
            try file.withMappedBytes(at: 8192, count: 8192) { bytes in bytes.reduce(0) { $0 &+ Int($1) } }
        }
        // The part still in the file maps as before.
        let head = try file.withMappedBytes(at: 0, count: 4096) { Array($0) }
        #expect(head == (0..<4096).map { UInt8(truncatingIfNeeded: $0) })
    }
}
