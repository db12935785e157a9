import ONNXExportIR

/// A zip archive opened for reading its entries in place.
///
/// Opening reads the end records and the central directory only. `locate` reads one entry's
/// local header to find where its bytes start (30 bytes + the LOCAL name and extra lengths, which
/// can differ from the central ones: PyTorch pads the local extra field to align data to 64
/// bytes), and checks that the bytes lie inside the file. Stored entries can then be handed out
/// as file regions, deflated ones as producers that inflate while streaming.
///
/// Refused with a message naming the file (and entry): multi-disk archives, encrypted entries,
/// methods other than stored and deflate, offsets or sizes outside the file, duplicate names.
///
/// ```swift
/// let zip = try ZipArchive(path: "pytorch_model.bin")
/// let pickle = try zip.locate("pytorch_model/data.pkl").readAll(limit: 1 << 20)
/// ```
struct ZipArchive {
    let path: String
    /// Kept open for reading local headers.
    let file: ReadOnlyFile
    var fileSize: Int { file.size }
    /// In central directory order.
    let entries: [ZipEntry]
    private let indexOfName: [String: Int]

    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let localHeaderSize = 30

    init(path: String) throws {
        try self.init(file: try ReadOnlyFile(path: path))
    }

    init(file: ReadOnlyFile) throws {
        self.file = file
        path = file.path
        let end = try ZipEndOfCentralDirectory(file: file)
        entries = try ZipCentralDirectory.entries(of: file, at: end)
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() { index[entry.name] = i }
        indexOfName = index
    }

    func entry(named name: String) -> ZipEntry? {
        indexOfName[name].map { entries[$0] }
    }

    /// The entry `name` with its data located; an error if it is missing or unreadable.
    func locate(_ name: String) throws -> ZipEntryData {
        guard let entry = entry(named: name) else {
            throw ExportError("\(path): the archive has no entry '\(name)'")
        }
        return try locate(entry)
    }

    /// Finds where `entry`'s data starts and checks it can be read: not encrypted, stored or
    /// deflated, a local header that matches, data inside the file.
    func locate(_ entry: ZipEntry) throws -> ZipEntryData {
        let fail = { (problem: String) in ExportError("\(path): zip entry '\(entry.name)': \(problem)") }
        guard !entry.isEncrypted else {
            throw fail("is encrypted; encrypted archives are not supported")
        }
        guard entry.method == ZipEntry.stored || entry.method == ZipEntry.deflated else {
            throw fail("uses compression \(entry.methodDescription); only stored (0) and deflate (8) are supported")
        }
        guard ZipFields.fits(offset: entry.localHeaderOffset, length: Self.localHeaderSize, in: fileSize) else {
            throw fail("its local header offset \(entry.localHeaderOffset) is past the end of the file (\(fileSize) bytes); is the file truncated?")
        }
        let header = try file.readBytes(at: entry.localHeaderOffset, count: Self.localHeaderSize)
        guard ZipFields.uint32(header, 0) == Self.localHeaderSignature else {
            throw fail("expected a local header (signature PK\\x03\\x04) at offset \(entry.localHeaderOffset), found \(ZipFields.hex(ZipFields.uint32(header, 0)))")
        }
        let nameLength = Int(ZipFields.uint16(header, 26)), extraLength = Int(ZipFields.uint16(header, 28))
        let nameOffset = entry.localHeaderOffset + Self.localHeaderSize
        guard ZipFields.fits(offset: nameOffset, length: nameLength + extraLength, in: fileSize) else {
            throw fail("its local header's name and extra field run past the end of the file; is the file truncated?")
        }
        let localName = try file.readBytes(at: nameOffset, count: nameLength)
        guard localName == entry.nameBytes else {
            throw fail("its local header names '\(String(decoding: localName, as: UTF8.self))'; the archive is damaged or ambiguous")
        }
        let dataOffset = nameOffset + nameLength + extraLength
        guard ZipFields.fits(offset: dataOffset, length: entry.compressedSize, in: fileSize) else {
            throw fail("its \(entry.compressedSize) bytes of data at offset \(dataOffset) run past the end of the file (\(fileSize) bytes); is the file truncated?")
        }
        if entry.method == ZipEntry.stored, entry.compressedSize != entry.uncompressedSize {
            throw fail("is stored (uncompressed) but its sizes differ: \(entry.compressedSize) bytes in the file, \(entry.uncompressedSize) declared")
        }
        return ZipEntryData(archivePath: path, entry: entry,
                            data: FileRegion(path: path, offset: dataOffset, length: entry.compressedSize))
    }
}
