import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Good archives: stored and deflated entries, padded local headers, Zip64, comments, and the
/// archives torch and Python's zipfile write.
@Suite struct ZipArchiveTests {
    private static let floats: [UInt8] = (0..<24).map { UInt8($0 * 3) }

    @Test func storedEntriesBehindPaddedLocalHeaders() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        var pickle = ZipBuilder.Entry("model/data.pkl", Array("not really a pickle".utf8))
        pickle.localExtra = [0x46, 0x42, 0x05, 0x00] + Array(repeating: 0x5A, count: 5)  // "FB" + 5 bytes of padding
        var storage = ZipBuilder.Entry("model/data/0", Self.floats)
        storage.localExtra = [0x46, 0x42, 0x1F, 0x00] + Array(repeating: 0x5A, count: 31)
        var builder = ZipBuilder([pickle, storage])
        let path = try folder.write("a.zip", builder.bytes())

        let zip = try ZipArchive(path: path)
        #expect(zip.entries.map(\.name) == ["model/data.pkl", "model/data/0"])
        #expect(try zip.locate("model/data.pkl").readAll(limit: 100) == Array("not really a pickle".utf8))

        let data = try zip.locate("model/data/0")
        let headerSize = 30 + "model/data.pkl".utf8.count + 9 + 19
        #expect(data.data.offset == headerSize + 30 + "model/data/0".utf8.count + 35)
        #expect(data.data.length == 24)
        let tensor = try data.tensor(byteOffset: 8, dtype: .float32, shape: [2, 2])
        guard case .file(let region) = tensor.storage else {
            Issue.record("a stored entry should give a file region, got \(tensor.storage)")
            return
        }
        #expect(region == FileRegion(path: path, offset: data.data.offset + 8, length: 16))
        #expect(try tensor.materialize() == Array(Self.floats[8..<24]))
    }

    @Test func zip64ExtraFieldsAndEndRecords() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        var entry = ZipBuilder.Entry("x.npy", Self.floats)
        entry.zip64Central = true
        var deflated = ZipBuilder.Entry("y.npy", Self.floats, method: 8)
        deflated.zip64Central = true
        var builder = ZipBuilder([entry, deflated])
        builder.zip64End = true
        let path = try folder.write("a.zip", builder.bytes())

        let zip = try ZipArchive(path: path)
        #expect(zip.entries.map(\.uncompressedSize) == [24, 24])
        #expect(zip.entries.map(\.method) == [0, 8])
        #expect(try zip.locate("x.npy").readAll(limit: 24) == Self.floats)
        #expect(try zip.locate("y.npy").readAll(limit: 24) == Self.floats)
    }

    @Test func endRecordFollowedByAComment() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        var builder = ZipBuilder([ZipBuilder.Entry("a", [1, 2, 3])])
        // The comment even holds an end-record signature whose comment length cannot fit.
        builder.comment = Array("comment PK".utf8) + [0x05, 0x06] + Array(repeating: 0x41, count: 200)
        let path = try folder.write("a.zip", builder.bytes())
        #expect(try ZipArchive(path: path).locate("a").readAll(limit: 3) == [1, 2, 3])
    }

    @Test func emptyArchive() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        var builder = ZipBuilder()
        let path = try folder.write("a.zip", builder.bytes())
        let zip = try ZipArchive(path: path)
        #expect(zip.entries.isEmpty)
        #expect(zip.entry(named: "a") == nil)
    }

    @Test func deflatedEntryInflatesWhileStreaming() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 256) }
        var builder = ZipBuilder([ZipBuilder.Entry("big", data, method: 8)])
        let path = try folder.write("a.zip", builder.bytes())

        let entry = try ZipArchive(path: path).locate("big")
        #expect(try entry.readAll(limit: data.count) == data)
        let tensor = try entry.tensor(byteOffset: 70_000, dtype: .int32, shape: [25_000])
        guard case .produced(let bytes) = tensor.storage else {
            Issue.record("a deflated entry should give produced bytes, got \(tensor.storage)")
            return
        }
        #expect(bytes.producer.identity.contains("#big"))
        #expect(bytes.producer.byteCount == 100_000)
        #expect(try tensor.materialize() == Array(data[70_000 ..< 170_000]))
    }

    @Test func inflationRunsInBoundedChunks() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let data = (0..<1_000).map { UInt8(truncatingIfNeeded: $0) }
        var builder = ZipBuilder([ZipBuilder.Entry("d", data, method: 8)])
        let path = try folder.write("a.zip", builder.bytes())
        let entry = try ZipArchive(path: path).locate("d")

        var inflation = ZipInflation(archivePath: path, entry: entry.entry, compressed: entry.data)
        inflation.inputChunk = 7
        inflation.outputChunk = 5
        var chunks: [[UInt8]] = []
        try inflation.run { chunks.append(Array($0)) }
        #expect(chunks.allSatisfy { $0.count <= 5 })
        #expect(chunks.count >= 200)
        #expect(chunks.flatMap { $0 } == data)
    }

    @Test func compressedEntriesWrittenByPythonZipfile() throws {
        let deflated = try ZipArchive(path: PyTorchFixtures.path("deflated/pytorch_model.bin"))
        let stored = try ZipArchive(path: PyTorchFixtures.path("state_dict/pytorch_model.bin"))
        #expect(deflated.entries.allSatisfy { $0.method == ZipEntry.deflated })
        #expect(deflated.entries.contains { $0.compressedSize < $0.uncompressedSize })
        #expect(Set(deflated.entries.map(\.name)) == Set(stored.entries.map(\.name)))
        for entry in stored.entries {
            let want = try stored.locate(entry).readAll(limit: 1 << 20)
            #expect(try deflated.locate(entry.name).readAll(limit: 1 << 20) == want, "\(entry.name)")
        }
    }

    @Test func torchArchivesAlignStoragesTo64Bytes() throws {
        let zip = try ZipArchive(path: PyTorchFixtures.path("state_dict/pytorch_model.bin"))
        let storages = zip.entries.filter { $0.name.hasPrefix("pytorch_model/data/") }
        #expect(storages.count > 10)
        for entry in storages {
            // Data descriptors (flag bit 3) leave the local sizes zero; the central directory rules.
            // (torch writes empty records without one.)
            #expect(entry.flags & 0x08 != 0 || entry.uncompressedSize == 0, "\(entry.name)")
            #expect(try zip.locate(entry).data.offset % 64 == 0, "\(entry.name)")
        }
    }

    @Test func recordedCRCOfZeroMeansNotComputed() throws {
        // torch.save after set_crc32_options(False) records 0 for every entry.
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        var stored = ZipBuilder.Entry("s", Self.floats)
        stored.crc = 0
        var deflated = ZipBuilder.Entry("d", Self.floats, method: 8)
        deflated.crc = 0
        var builder = ZipBuilder([stored, deflated])
        let path = try folder.write("a.zip", builder.bytes())
        let zip = try ZipArchive(path: path)
        #expect(try zip.locate("s").readAll(limit: 24) == Self.floats)
        #expect(try zip.locate("d").readAll(limit: 24) == Self.floats)
    }

    @Test func crcOfZlibMatchesTheKnownCheckValue() {
        #expect(ZipCRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipCRC32.checksum([]) == 0)
    }
}
