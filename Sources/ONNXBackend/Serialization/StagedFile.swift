import Foundation
import ONNXExportIR
#if canImport(Glibc)
import Glibc
#endif

/// A file written under a hidden temporary name in its destination folder and renamed into
/// place only once complete, so a failed or interrupted export never leaves a file that looks
/// like a model (rename within one folder is atomic).
struct StagedFile {
    let finalPath: String
    let temporaryPath: String
    /// The final file name, as progress reports name the file being written.
    var fileName: String { (finalPath as NSString).lastPathComponent }

    /// `token` makes the temporary name unique to this write (process id plus a random part,
    /// so two exports into one folder, even from one process, do not collide).
    init(directory: String, name: String, token: String) {
        finalPath = (directory as NSString).appendingPathComponent(name)
        temporaryPath = (directory as NSString).appendingPathComponent(".\(name).tmp-\(token)")
    }

    static func makeToken() -> String {
        "\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    func commit() throws {
        guard rename(temporaryPath, finalPath) == 0 else {
            throw ExportError("\(finalPath): cannot move the finished file into place (\(String(cString: strerror(errno))))")
        }
    }

    /// Removes the temporary file if it exists (cleanup after a failure, errors ignored).
    func discard() { _ = unlink(temporaryPath) }

    /// Errors from writing name the temporary file, which is gone by the time the user reads
    /// them: say the final name instead.
    func naming(_ error: Error) -> Error {
        guard let e = error as? ExportError, e.message.contains(temporaryPath) else { return error }
        return ExportError(e.message.replacingOccurrences(of: temporaryPath, with: finalPath))
    }

    /// Deletes a file left at `path` by an earlier export (an external data file the new model
    /// no longer uses and would not match). Only a plain file is removed (`unlink` never
    /// removes a folder); a missing one is fine.
    static func removeStale(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT || errno == EISDIR else {
            throw ExportError("\(path): cannot remove this external data file left by an earlier export (\(String(cString: strerror(errno))))")
        }
    }
}
