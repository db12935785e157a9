import ONNXExportIR

/// Parses the central directory: one 46-byte header per entry, then its name, extra field and
/// comment, with sizes and offsets of 0xFFFFFFFF resolved through the Zip64 extra field (tag 1).
///
/// Names must be unique: two entries of one name would let a file show one reader one payload and
/// another reader another, so the archive is refused rather than resolved either way.
enum ZipCentralDirectory {
    static let signature: UInt32 = 0x0201_4B50
    static let headerSize = 46
    static let zip64ExtraTag: UInt16 = 0x0001
    /// The directory is read whole; a million entries take about 100 MB, so this bounds memory
    /// without refusing any real checkpoint.
    static let maximumSize = 1 << 30

    static func entries(of file: ReadOnlyFile, at end: ZipEndOfCentralDirectory) throws -> [ZipEntry] {
        let path = file.path
        guard end.directorySize <= maximumSize else {
            throw ExportError("\(path): the central directory is \(end.directorySize) bytes, more than the \(maximumSize) this reader accepts")
        }
        let directory = try file.readBytes(at: end.directoryOffset, count: end.directorySize)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(end.entryCount)
        var seen: Set<String> = []
        var position = 0
        for index in 0..<end.entryCount {
            let fail = { (problem: String) in
                ExportError("\(path): central directory entry \(index) (at offset \(end.directoryOffset + position)): \(problem)")
            }
            guard directory.count - position >= headerSize else {
                throw fail("the directory ends after \(directory.count) bytes, but the end record promises \(end.entryCount) entries")
            }
            let header = Array(directory[position ..< position + headerSize])
            guard ZipFields.uint32(header, 0) == signature else {
                throw fail("expected a central directory header (signature PK\\x01\\x02), found \(ZipFields.hex(ZipFields.uint32(header, 0)))")
            }
            let nameLength = Int(ZipFields.uint16(header, 28))
            let extraLength = Int(ZipFields.uint16(header, 30))
            let commentLength = Int(ZipFields.uint16(header, 32))
            let variableLength = nameLength + extraLength + commentLength
            guard directory.count - position - headerSize >= variableLength else {
                throw fail("its name, extra field and comment (\(variableLength) bytes) run past the end of the central directory")
            }
            let nameStart = position + headerSize
            let nameBytes = Array(directory[nameStart ..< nameStart + nameLength])
            let extra = Array(directory[nameStart + nameLength ..< nameStart + nameLength + extraLength])
            let name = String(decoding: nameBytes, as: UTF8.self)
            let entry = try Self.entry(header: header, name: name, nameBytes: nameBytes, extra: extra) { problem in
                fail("'\(name)': \(problem)")
            }
            guard seen.insert(name).inserted else {
                throw fail("the archive holds two entries named '\(name)'; refusing an ambiguous archive")
            }
            entries.append(entry)
            position += headerSize + variableLength
        }
        return entries
    }

    /// One entry from its fixed header, with Zip64 values taken from `extra` where the header
    /// holds the 0xFFFFFFFF placeholder.
    private static func entry(header: [UInt8], name: String, nameBytes: [UInt8], extra: [UInt8],
                              fail: (String) -> ExportError) throws -> ZipEntry {
        var uncompressed = UInt64(ZipFields.uint32(header, 24))
        var compressed = UInt64(ZipFields.uint32(header, 20))
        var localOffset = UInt64(ZipFields.uint32(header, 42))
        var disk = UInt64(ZipFields.uint16(header, 34))
        let placeholder32: UInt64 = 0xFFFF_FFFF
        if uncompressed == placeholder32 || compressed == placeholder32 || localOffset == placeholder32 || disk == 0xFFFF {
            guard let zip64 = try zip64Field(in: extra, fail: fail) else {
                throw fail("a size or offset is 0xFFFFFFFF but there is no Zip64 extra field to hold its value")
            }
            // The field holds, in this order, only the values whose header slots are placeholders.
            var cursor = 0
            func next(_ width: Int, _ what: String) throws -> UInt64 {
                guard zip64.count - cursor >= width else {
                    throw fail("the Zip64 extra field (\(zip64.count) bytes) is too short for the \(what) the header marks 0xFFFFFFFF")
                }
                defer { cursor += width }
                return width == 8 ? ZipFields.uint64(zip64, cursor) : UInt64(ZipFields.uint32(zip64, cursor))
            }
            if uncompressed == placeholder32 { uncompressed = try next(8, "uncompressed size") }
            if compressed == placeholder32 { compressed = try next(8, "compressed size") }
            if localOffset == placeholder32 { localOffset = try next(8, "local header offset") }
            if disk == 0xFFFF { disk = try next(4, "disk number") }
        }
        guard disk == 0 else {
            throw fail("starts on disk \(disk); only single-file archives are supported")
        }
        guard let uncompressedSize = ZipFields.int(uncompressed), let compressedSize = ZipFields.int(compressed),
              let localHeaderOffset = ZipFields.int(localOffset) else {
            throw fail("a size or offset is beyond 2^63; the directory is damaged")
        }
        return ZipEntry(name: name, nameBytes: nameBytes, flags: ZipFields.uint16(header, 8), method: ZipFields.uint16(header, 10),
                        crc32: ZipFields.uint32(header, 16), compressedSize: compressedSize,
                        uncompressedSize: uncompressedSize, localHeaderOffset: localHeaderOffset)
    }

    /// The body of the Zip64 extra field (tag 1) in `extra`, if any; a malformed list is an error.
    private static func zip64Field(in extra: [UInt8], fail: (String) -> ExportError) throws -> [UInt8]? {
        var position = 0
        while extra.count - position >= 4 {
            let tag = ZipFields.uint16(extra, position)
            let length = Int(ZipFields.uint16(extra, position + 2))
            guard extra.count - position - 4 >= length else {
                throw fail("extra field 0x\(String(tag, radix: 16)) claims \(length) bytes, more than the \(extra.count - position - 4) left")
            }
            if tag == zip64ExtraTag { return Array(extra[position + 4 ..< position + 4 + length]) }
            position += 4 + length
        }
        return nil
    }
}
