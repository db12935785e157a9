import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// One libFuzzer run (`main.swift` hands this to the driver): one input through the reader that
/// `ONNX_EXPORT_FUZZ_TARGET` names (`scripts/fuzz.sh list`). An `ExportError` is the right answer
/// to bad input; any other error aborts, so libFuzzer keeps the input as a crash.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try session.target.run(input, scratch: session.scratch, shelf: session.shelf)
    } catch is ExportError {
    } catch {
        FileHandle.standardError.write(Data("reader-fuzz: \(session.target.rawValue) threw a non-ExportError: \(error)\n".utf8))
        abort()
    }
    return 0
}

/// The target, scratch folder and fixtures of this process, set up on the first input.
private struct FuzzSession {
    let target: ReaderFuzzTarget
    let scratch: FuzzScratch
    let shelf: FuzzCheckpointShelf

    static func start() -> FuzzSession {
        let environment = ProcessInfo.processInfo.environment
        let names = ReaderFuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = environment["ONNX_EXPORT_FUZZ_TARGET"], let target = ReaderFuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("reader-fuzz: set ONNX_EXPORT_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        do {
            let scratch = try FuzzScratch()
            atexit { session.scratch.remove() }
            // Fuzzing/Sources/reader-fuzz/ReaderFuzz.swift → Tests/Fixtures
            let root = environment["ONNX_EXPORT_FUZZ_FIXTURES"] ?? URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures").path
            let shelf = [.config, .originalConfig].contains(target) ? FuzzCheckpointShelf(fixturesRoot: root) : FuzzCheckpointShelf()
            // The shelf's weight stores live as long as the process, held through Swift's tagged
            // enum payloads (`TensorData.Storage` is indirect), which LeakSanitizer does not
            // recognise as pointers: it would report them as leaks. Opened here with it looking away.
            lsanDisable()
            defer { lsanEnable() }
            try shelf.openAll()
            return FuzzSession(target: target, scratch: scratch, shelf: shelf)
        } catch {
            FileHandle.standardError.write(Data("reader-fuzz: \(error)\n".utf8))
            exit(2)
        }
    }
}

private let session = FuzzSession.start()

@_silgen_name("__lsan_disable") private func lsanDisable()
@_silgen_name("__lsan_enable") private func lsanEnable()
