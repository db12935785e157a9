import ONNXExportIR

/// Where a zip archive's central directory lies, found from the records at the end of the file.
///
/// A zip is read from its end: the End of Central Directory record (22 bytes plus a comment of up
/// to 65,535 bytes) gives the directory's offset, size and entry count. When those overflow their
/// 16- and 32-bit fields, or when the writer chose to (PyTorch always does, numpy never does), a
/// Zip64 locator sits just before the end record and points at a Zip64 end record holding 64-bit
/// values. Every value is checked against the file size before anything is read at it.
struct ZipEndOfCentralDirectory {
    var entryCount: Int
    var directoryOffset: Int
    var directorySize: Int

    static let signature: UInt32 = 0x0605_4B50
    static let recordSize = 22
    static let maximumCommentLength = 0xFFFF
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64LocatorSize = 20
    static let zip64RecordSignature: UInt32 = 0x0606_4B50
    static let zip64RecordSize = 56
    /// The smallest central directory header (no name, extra field or comment).
    static let minimumEntrySize = 46

    init(file: ReadOnlyFile) throws {
        let path = file.path
        guard file.size >= Self.recordSize else {
            throw ExportError("\(path): is \(file.size) bytes, too short to be a zip archive (its end record alone takes \(Self.recordSize)); is the file truncated?")
        }
        let (endOffset, end) = try Self.findEndRecord(in: file)
        let diskNumber = ZipFields.uint16(end, 4), directoryDisk = ZipFields.uint16(end, 6)
        let entriesOnDisk = ZipFields.uint16(end, 8), entries = ZipFields.uint16(end, 10)
        let size = ZipFields.uint32(end, 12), offset = ZipFields.uint32(end, 16)
        guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == entries else {
            throw ExportError("\(path): is part of a multi-disk (split) zip archive (disk \(diskNumber), directory on disk \(directoryDisk));"
                + " only single-file archives are supported")
        }

        // The classic fields are used unless a Zip64 locator precedes the end record.
        var location = (entries: Int(entries), offset: Int(offset), size: Int(size))
        var directoryEnd = endOffset
        if let zip64 = try Self.zip64Record(before: endOffset, in: file) {
            location = (zip64.entries, zip64.offset, zip64.size)
            directoryEnd = zip64.recordOffset
        } else if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            throw ExportError("\(path): the end record marks its fields as Zip64 (0xFFFF...) but no Zip64 end record precedes it; is the file truncated or damaged?")
        }

        guard ZipFields.fits(offset: location.offset, length: location.size, in: directoryEnd) else {
            throw ExportError("\(path): the central directory (offset \(location.offset), \(location.size) bytes) lies outside the file,"
                + " which has \(file.size) bytes and whose end records start at \(directoryEnd); is the file truncated?")
        }
        guard location.entries <= location.size / Self.minimumEntrySize else {
            throw ExportError("\(path): the end record claims \(location.entries) entries, more than a central directory of \(location.size) bytes can hold")
        }
        entryCount = location.entries
        directoryOffset = location.offset
        directorySize = location.size
    }

    /// The last end-record signature in the file's tail whose comment fits in the file.
    private static func findEndRecord(in file: ReadOnlyFile) throws -> (offset: Int, record: [UInt8]) {
        let tailLength = min(file.size, recordSize + maximumCommentLength)
        let tailStart = file.size - tailLength
        let tail = try file.readBytes(at: tailStart, count: tailLength)
        var candidate = tailLength - recordSize
        while candidate >= 0 {
            if ZipFields.uint32(tail, candidate) == signature {
                let commentLength = Int(ZipFields.uint16(tail, candidate + 20))
                if candidate + recordSize + commentLength <= tailLength {
                    return (tailStart + candidate, Array(tail[candidate ..< candidate + recordSize]))
                }
            }
            candidate -= 1
        }
        throw ExportError("\(file.path): has no zip end of central directory record in its last \(tailLength) bytes;"
            + " it is not a zip archive, or it is truncated")
    }

    /// The Zip64 end record named by a locator just before `endOffset`, if there is a locator.
    private static func zip64Record(before endOffset: Int, in file: ReadOnlyFile) throws
        -> (entries: Int, offset: Int, size: Int, recordOffset: Int)?
    {
        let path = file.path
        guard endOffset >= zip64LocatorSize else { return nil }
        let locatorOffset = endOffset - zip64LocatorSize
        let locator = try file.readBytes(at: locatorOffset, count: zip64LocatorSize)
        guard ZipFields.uint32(locator, 0) == zip64LocatorSignature else { return nil }
        let recordDisk = ZipFields.uint32(locator, 4), diskCount = ZipFields.uint32(locator, 16)
        guard recordDisk == 0, diskCount <= 1 else {
            throw ExportError("\(path): is part of a multi-disk Zip64 archive (\(diskCount) disks); only single-file archives are supported")
        }
        guard let recordOffset = ZipFields.int(ZipFields.uint64(locator, 8)),
              ZipFields.fits(offset: recordOffset, length: zip64RecordSize, in: locatorOffset) else {
            throw ExportError("\(path): the Zip64 locator points at offset \(ZipFields.uint64(locator, 8)) for the Zip64 end record,"
                + " which does not fit before the locator at \(locatorOffset); is the file damaged?")
        }
        let record = try file.readBytes(at: recordOffset, count: zip64RecordSize)
        guard ZipFields.uint32(record, 0) == zip64RecordSignature else {
            throw ExportError("\(path): the Zip64 locator points at offset \(recordOffset), but no Zip64 end record (signature PK\\x06\\x06) is there")
        }
        let diskNumber = ZipFields.uint32(record, 16), directoryDisk = ZipFields.uint32(record, 20)
        let entriesOnDisk = ZipFields.uint64(record, 24), entries = ZipFields.uint64(record, 32)
        guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == entries else {
            throw ExportError("\(path): the Zip64 end record describes a multi-disk archive (disk \(diskNumber)); only single-file archives are supported")
        }
        guard let count = ZipFields.int(entries), let size = ZipFields.int(ZipFields.uint64(record, 40)),
              let offset = ZipFields.int(ZipFields.uint64(record, 48)) else {
            throw ExportError("\(path): the Zip64 end record holds a size, offset or entry count beyond 2^63; the file is damaged")
        }
        return (count, offset, size, recordOffset)
    }
}
