import Foundation
import ONNXExportIR

/// Checks a stored (uncompressed) zip entry against the CRC-32 its central directory records.
///
/// The tensors of a `pytorch_model.bin` are file ranges of its stored entries, copied to the
/// output with `copy_file_range`, which never shows the bytes to the program: without this, a
/// byte flipped inside a weight would export silently (torch.load does not notice either). One
/// check belongs to one entry and reads all of it, once, however many tensors view it and
/// whichever parts: views of one storage share the check, and bytes no tensor uses are checked
/// too, since the recorded CRC covers them. The entry is read from the page cache a window at a
/// time (`withMappedBytes`), so memory stays flat.
///
/// An entry recorded with CRC 0 ("not computed", `ZipInflation.checkCRC`) gets no check.
final class ZipStoredEntryCheck: SourceIntegrityCheck, @unchecked Sendable {
    let archivePath: String
    let entry: ZipEntry
    /// The entry's bytes in the file.
    let data: FileRegion
    var window = 4 << 20

    private let lock = NSLock()
    /// Nil until the first `verify`; then its outcome, which later calls repeat.
    private var outcome: Result<Void, Error>?

    init(archivePath: String, entry: ZipEntry, data: FileRegion) {
        self.archivePath = archivePath
        self.entry = entry
        self.data = data
    }

    func verify() throws {
        lock.lock()
        defer { lock.unlock() }
        let result = outcome ?? Result { try check() }
        outcome = result
        try result.get()
    }

    private func check() throws {
        let file = try ReadOnlyFile(path: archivePath)
        var crc = ZipCRC32()
        var done = 0
        while done < data.length {
            let n = min(window, data.length - done)
            try file.withMappedBytes(at: data.offset + done, count: n) { crc.update($0) }
            done += n
        }
        try ZipInflation.checkCRC(crc.value, entry: entry, archivePath: archivePath)
    }
}
