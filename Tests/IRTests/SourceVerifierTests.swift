import Foundation
import Testing
@testable import ONNXExportIR

/// `SourceVerifier` runs each distinct check of the tensors it is given, in order, and reports the
/// first failure from `finish`; `FileRegion` identity ignores the check it carries.
@Suite struct SourceVerifierTests {
    final class CountingCheck: SourceIntegrityCheck, @unchecked Sendable {
        let name: String
        let fails: Bool
        let log: Log
        init(_ name: String, fails: Bool = false, log: Log) { self.name = name; self.fails = fails; self.log = log }
        func verify() throws {
            log.append(name)
            if fails { throw ExportError("\(name) is corrupt") }
        }
    }

    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []
        func append(_ name: String) { lock.lock(); names.append(name); lock.unlock() }
        var entries: [String] { lock.lock(); defer { lock.unlock() }; return names }
    }

    private static func tensor(_ check: (any SourceIntegrityCheck)?, offset: Int = 0) -> TensorData {
        TensorData(dtype: .float32, shape: [2, 2], storage: .file(FileRegion(path: "/ckpt.bin", offset: offset, length: 16, integrity: check)))
    }

    @Test func eachDistinctCheckRunsOnceInOrder() throws {
        let log = Log()
        let a = CountingCheck("a", log: log), b = CountingCheck("b", log: log)
        let tensors = [Self.tensor(a), try Self.tensor(b, offset: 16).transposed(), Self.tensor(a, offset: 32),
                       Self.tensor(nil), TensorData.float32([1, 2])]
        let verifier = SourceVerifier(tensors)
        try verifier.finish()
        try verifier.finish()
        #expect(log.entries == ["a", "b"])
    }

    @Test func theFirstFailureIsReported() throws {
        let log = Log()
        let tensors = [Self.tensor(CountingCheck("a", log: log)), Self.tensor(CountingCheck("b", fails: true, log: log), offset: 16),
                       Self.tensor(CountingCheck("c", fails: true, log: log), offset: 32)]
        let verifier = SourceVerifier(tensors)
        #expect(throws: ExportError("b is corrupt")) { try verifier.finish() }
        #expect(throws: ExportError("b is corrupt")) { try verifier.finish() }
        #expect(log.entries == ["a", "b"])
    }

    @Test func noChecksStartNothing() throws {
        try SourceVerifier([Self.tensor(nil), TensorData.float32([1])]).finish()
        try SourceVerifier([]).finish()
    }

    @Test func regionIdentityIgnoresTheCheck() {
        let check = CountingCheck("a", log: Log())
        let checked = FileRegion(path: "/x", offset: 4, length: 8, integrity: check)
        let plain = FileRegion(path: "/x", offset: 4, length: 8)
        #expect(checked == plain)
        #expect(Set([checked, plain]).count == 1)
        #expect(Self.tensor(check) == Self.tensor(nil))
    }
}
