import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// One test per way a zip archive can be broken or hostile. Each error must start with the
/// file's path and say what is wrong.
@Suite struct ZipBrokenArchiveTests {
    private static let data = (0..<100).map { UInt8($0) }

    /// Writes `bytes` and expects opening it, or reading entry `entry` whole, to fail.
    private func expectFails(_ bytes: [UInt8], entry: String? = nil, mentioning fragments: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("broken.zip", bytes)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            let zip = try ZipArchive(path: path)
            if let entry { _ = try zip.locate(entry).readAll(limit: 1 << 20) }
        }
    }

    private func archive(_ entries: [ZipBuilder.Entry], _ change: (inout ZipBuilder) -> Void = { _ in }) -> [UInt8] {
        var builder = ZipBuilder(entries)
        change(&builder)
        return builder.bytes()
    }

    // MARK: end records and central directory

    @Test func tooShortToBeAZip() throws {
        try expectFails([0x50, 0x4B, 3, 4, 0, 0], mentioning: ["is 6 bytes, too short to be a zip archive"])
    }

    @Test func noEndRecord() throws {
        try expectFails(Array(repeating: 0x41, count: 300), mentioning: ["no zip end of central directory record", "truncated"])
    }

    @Test func truncatedArchive() throws {
        let bytes = archive([ZipBuilder.Entry("a", Self.data), ZipBuilder.Entry("b", Self.data)])
        try expectFails(Array(bytes.prefix(bytes.count - 30)), mentioning: ["no zip end of central directory record", "truncated"])
    }

    @Test func directoryOffsetPastTheEnd() throws {
        let bytes = archive([ZipBuilder.Entry("a", Self.data)]) { $0.directoryOffsetOverride = 0x7FFF_0000 }
        try expectFails(bytes, mentioning: ["central directory (offset 2147418112", "lies outside the file", "truncated"])
    }

    @Test func zip64DirectoryOffsetPastTheEnd() throws {
        let bytes = archive([ZipBuilder.Entry("a", Self.data)]) {
            $0.zip64End = true
            $0.directoryOffsetOverride = 1 << 40
        }
        try expectFails(bytes, mentioning: ["central directory (offset 1099511627776", "lies outside the file"])
    }

    @Test func zip64FieldsWithoutAZip64Record() throws {
        var bytes = archive([ZipBuilder.Entry("a", Self.data)])
        let end = try #require(ZipBuilder.lastRecord(0x0605_4B50, in: bytes))
        ZipBuilder.patch(&bytes, at: end + 16, ZipBuilder.littleEndian32(0xFFFF_FFFF))
        try expectFails(bytes, mentioning: ["marks its fields as Zip64", "no Zip64 end record"])
    }

    @Test func zip64LocatorPointingPastTheEnd() throws {
        var bytes = archive([ZipBuilder.Entry("a", Self.data)]) { $0.zip64End = true }
        let locator = try #require(ZipBuilder.lastRecord(0x0706_4B50, in: bytes))
        ZipBuilder.patch(&bytes, at: locator + 8, ZipBuilder.littleEndian64(1 << 50))
        try expectFails(bytes, mentioning: ["Zip64 locator points at offset 1125899906842624", "does not fit"])
    }

    @Test func zip64LocatorPointingAtGarbage() throws {
        var bytes = archive([ZipBuilder.Entry("a", Self.data)]) { $0.zip64End = true }
        let locator = try #require(ZipBuilder.lastRecord(0x0706_4B50, in: bytes))
        ZipBuilder.patch(&bytes, at: locator + 8, ZipBuilder.littleEndian64(0))
        try expectFails(bytes, mentioning: ["no Zip64 end record", "is there"])
    }

    @Test func multiDiskArchive() throws {
        let bytes = archive([ZipBuilder.Entry("a", Self.data)]) { $0.diskNumber = 1 }
        try expectFails(bytes, mentioning: ["multi-disk", "only single-file archives are supported"])
    }

    @Test func moreEntriesClaimedThanTheDirectoryCanHold() throws {
        let bytes = archive([ZipBuilder.Entry("a", Self.data)]) { $0.entryCountOverride = 1000 }
        try expectFails(bytes, mentioning: ["claims 1000 entries", "more than a central directory of"])
    }

    @Test func directoryShorterThanItsEntryCount() throws {
        let name = String(repeating: "n", count: 60)
        let bytes = archive([ZipBuilder.Entry(name, Self.data)]) { $0.entryCountOverride = 2 }
        try expectFails(bytes, mentioning: ["central directory entry 1", "the end record promises 2 entries"])
    }

    @Test func duplicateNames() throws {
        let bytes = archive([ZipBuilder.Entry("a/data.pkl", [1]), ZipBuilder.Entry("a/data.pkl", [2])])
        try expectFails(bytes, mentioning: ["two entries named 'a/data.pkl'", "ambiguous"])
    }

    @Test func zip64ExtraFieldTooShort() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.zip64Central = true
        entry.zip64CentralBody = ZipBuilder.littleEndian64(100)
        try expectFails(archive([entry]), mentioning: ["'a'", "Zip64 extra field (8 bytes) is too short for the compressed size"])
    }

    @Test func extraFieldLongerThanItsSpace() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.zip64Central = true
        entry.zip64CentralBody = []
        var bytes = archive([entry])
        // Make the (empty) Zip64 field claim 200 bytes.
        let directory = try #require(ZipBuilder.lastRecord(0x0201_4B50, in: bytes))
        ZipBuilder.patch(&bytes, at: directory + 46 + 1 + 2, ZipBuilder.littleEndian16(200))
        try expectFails(bytes, mentioning: ["extra field 0x1 claims 200 bytes"])
    }

    // MARK: entries

    @Test func encryptedEntry() throws {
        var entry = ZipBuilder.Entry("secret", Self.data)
        entry.flags = 1
        try expectFails(archive([entry]), entry: "secret", mentioning: ["zip entry 'secret'", "is encrypted"])
    }

    @Test func unsupportedCompressionMethod() throws {
        try expectFails(archive([ZipBuilder.Entry("b", Self.data, method: 12)]), entry: "b",
                        mentioning: ["zip entry 'b'", "bzip2 (12)", "only stored (0) and deflate (8)"])
    }

    @Test func localHeaderOffsetPastTheEnd() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.localHeaderOffset = 10_000_000
        try expectFails(archive([entry]), entry: "a", mentioning: ["local header offset 10000000 is past the end of the file"])
    }

    @Test func localHeaderSignatureMissing() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.localHeaderOffset = 1
        try expectFails(archive([entry]), entry: "a", mentioning: ["expected a local header", "at offset 1"])
    }

    @Test func localNameDiffersFromCentralName() throws {
        var entry = ZipBuilder.Entry("a/data/0", Self.data)
        entry.localName = "a/data/1"
        try expectFails(archive([entry]), entry: "a/data/0", mentioning: ["local header names 'a/data/1'"])
    }

    @Test func dataRunningPastTheEnd() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.zip64Central = true
        entry.zip64CentralBody = ZipBuilder.littleEndian64(100) + ZipBuilder.littleEndian64(1 << 40) + ZipBuilder.littleEndian64(0)
        try expectFails(archive([entry]), entry: "a", mentioning: ["1099511627776 bytes of data", "run past the end of the file"])
    }

    @Test func storedEntryWhoseSizesDiffer() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.declaredSize = 120
        try expectFails(archive([entry]), entry: "a", mentioning: ["is stored", "100 bytes in the file, 120 declared"])
    }

    @Test func entryDeclaringMoreThanTheLimit() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("a.zip", archive([ZipBuilder.Entry("a", Self.data)]))
        expectReaderError(startingWith: path, mentioning: ["declares 100 bytes, more than the 10"]) {
            _ = try ZipArchive(path: path).locate("a").readAll(limit: 10)
        }
    }

    @Test func missingEntry() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("a.zip", archive([ZipBuilder.Entry("a", Self.data)]))
        expectReaderError(startingWith: path, mentioning: ["no entry 'b'"]) { _ = try ZipArchive(path: path).locate("b") }
    }

    // MARK: contents

    @Test func deflatedEntryInflatingToMoreThanItClaims() throws {
        var entry = ZipBuilder.Entry("bomb", Self.data, method: 8)
        entry.declaredSize = 60
        let bytes = archive([entry])
        try expectFails(bytes, entry: "bomb", mentioning: ["zip entry 'bomb'", "inflates to more than the 60 bytes it claims"])

        // The same while a tensor streams: stopped at the declared size, nothing unbounded.
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("bomb.zip", bytes)
        let tensor = try ZipArchive(path: path).locate("bomb").tensor(byteOffset: 0, dtype: .uint8, shape: [60])
        expectReaderError(startingWith: path, mentioning: ["inflates to more than the 60 bytes it claims"]) {
            _ = try tensor.materialize()
        }
    }

    @Test func deflatedEntryInflatingToFewerThanItClaims() throws {
        var entry = ZipBuilder.Entry("short", Self.data, method: 8)
        entry.declaredSize = 150
        try expectFails(archive([entry]), entry: "short", mentioning: ["inflates to 100 bytes, fewer than the 150 it claims"])
    }

    @Test func corruptDeflateData() throws {
        var entry = ZipBuilder.Entry("bad", Self.data, method: 8)
        entry.payload = [0x07, 0x00, 0x00, 0x00]  // block type 3 is reserved
        try expectFails(archive([entry]), entry: "bad", mentioning: ["zip entry 'bad'", "deflate data is corrupt", "zlib:"])
    }

    @Test func truncatedDeflateData() throws {
        var entry = ZipBuilder.Entry("cut", Self.data, method: 8)
        entry.payload = Array(ZipBuilder.deflateStored(Self.data).dropLast(10))
        try expectFails(archive([entry]), entry: "cut", mentioning: ["deflate data ends after 95 bytes", "truncated"])
    }

    @Test func wrongCRCOfAStoredEntry() throws {
        var entry = ZipBuilder.Entry("a", Self.data)
        entry.crc = 0x1234_5678
        try expectFails(archive([entry]), entry: "a", mentioning: ["zip entry 'a' fails its CRC-32 check", "records 0x12345678"])
    }

    @Test func wrongCRCOfADeflatedEntry() throws {
        var entry = ZipBuilder.Entry("d", Self.data, method: 8)
        entry.crc = 0xDEAD_BEEF
        let bytes = archive([entry])
        try expectFails(bytes, entry: "d", mentioning: ["zip entry 'd' fails its CRC-32 check", "records 0xdeadbeef"])

        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("d.zip", bytes)
        let tensor = try ZipArchive(path: path).locate("d").tensor(byteOffset: 10, dtype: .uint8, shape: [5])
        expectReaderError(startingWith: path, mentioning: ["fails its CRC-32 check"]) { _ = try tensor.materialize() }
    }

    @Test func tensorPastTheEndOfItsEntry() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("a.zip", archive([ZipBuilder.Entry("a", Self.data)]))
        let entry = try ZipArchive(path: path).locate("a")
        expectReaderError(startingWith: path, mentioning: ["holds 100 bytes, too few for 400 bytes of float32[100] at byte 0"]) {
            _ = try entry.tensor(byteOffset: 0, dtype: .float32, shape: [100])
        }
        expectReaderError(startingWith: path, mentioning: ["too large to count in 64 bits"]) {
            _ = try entry.tensor(byteOffset: 0, dtype: .float32, shape: [1 << 40, 1 << 40])
        }
    }
}
