import Foundation
import ONNXExportIR

/// A private folder the fuzz entry points write their input files into, because the readers take
/// paths: under `/dev/shm` where it exists (memory, no disk traffic at thousands of runs a
/// second), else the temporary folder. Each `write` replaces the files of the previous one.
public final class FuzzScratch {
    public let folder: String
    private var written: Set<String> = []

    public init() throws {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        var template = Array("\(base)/onnx-export-fuzz.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap(mkdtemp) }) else {
            throw ExportError("\(base): cannot create a scratch folder for fuzzing (errno \(errno))")
        }
        folder = String(cString: made)
    }

    deinit { remove() }

    /// Removes the folder and what was written into it. The fuzzer calls this at exit, since a
    /// process that ends through `exit` never releases its globals.
    public func remove() {
        for path in written { unlink(path) }
        written.removeAll()
        rmdir(folder)
    }

    /// Writes `files` (name → bytes) into the folder, after removing what the last call wrote,
    /// and returns the folder.
    @discardableResult
    public func write(_ files: [(name: String, bytes: ArraySlice<UInt8>)]) throws -> String {
        for path in written { unlink(path) }
        written.removeAll()
        for file in files {
            let path = folder + "/" + file.name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ExportError("\(path): cannot create a fuzz input (errno \(errno))") }
            written.insert(path)
            defer { close(fd) }
            let complete = file.bytes.withUnsafeBytes { bytes -> Bool in
                var done = 0
                while done < bytes.count {
                    guard let base = bytes.baseAddress else { return true }
                    let n = Foundation.write(fd, base + done, bytes.count - done)
                    if n <= 0 { return false }
                    done += n
                }
                return true
            }
            guard complete else { throw ExportError("\(path): cannot write a fuzz input (errno \(errno))") }
        }
        return folder
    }

    public func path(of name: String) -> String { folder + "/" + name }
}
