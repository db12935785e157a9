import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Stored zip entries carry a CRC-32 check on their tensors' file ranges: one per entry, shared by
/// every view of it, covering bytes no tensor uses, run once, and absent for a recorded CRC of 0.
@Suite struct ZipStoredEntryCheckTests {
    /// 64 bytes: two float32 [2, 2] views at bytes 0 and 32, bytes 16..<32 and 48..<64 unused.
    private static let storage: [UInt8] = (0..<64).map { UInt8($0 * 5 % 256) }

    /// The archive's path and the offset of the storage entry's data in it.
    private static func archive(in folder: ZipTempFolder, crc: UInt32? = nil, flipping flip: Int? = nil) throws -> (String, Int) {
        var entry = ZipBuilder.Entry("model/data/0", storage)
        entry.crc = crc
        var builder = ZipBuilder([ZipBuilder.Entry("model/data.pkl", Array("p".utf8)), entry])
        var bytes = builder.bytes()
        let dataOffset = 30 + "model/data.pkl".utf8.count + 1 + 30 + "model/data/0".utf8.count
        if let flip { bytes[dataOffset + flip] ^= 0x10 }
        return (try folder.write("a.zip", bytes), dataOffset)
    }

    private static func views(_ path: String) throws -> [TensorData] {
        let data = try ZipArchive(path: path).locate("model/data/0")
        return [try data.tensor(byteOffset: 0, dtype: .float32, shape: [2, 2]),
                try data.tensor(byteOffset: 32, dtype: .float32, shape: [2, 2]).transposed()]
    }

    @Test func viewsOfOneEntryShareOneCheck() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let (path, _) = try Self.archive(in: folder)
        let tensors = try Self.views(path)
        let checks = tensors.flatMap(\.integrityChecks)
        #expect(checks.count == 2)
        #expect(checks[0] === checks[1])
        try checks[0].verify()
        try SourceVerifier(tensors).finish()
    }

    /// A flipped byte fails the entry's check wherever it lies, in a view or in bytes no view reads (whose views still
    /// read the right bytes).
    @Test func aFlippedByteAnywhereInTheEntryFails() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        for flip in [0, 20, 40, 63] {
            let (path, _) = try Self.archive(in: folder, flipping: flip)
            let tensors = try Self.views(path)
            #expect(throws: ExportError.self) { try SourceVerifier(tensors).finish() }
            do {
                try SourceVerifier(tensors).finish()
            } catch let error as ExportError {
                #expect(error.message.contains(path) && error.message.contains("'model/data/0'") && error.message.contains("CRC-32"), "\(error.message)")
            }
            if (16..<32).contains(flip) || (48..<64).contains(flip) {
                #expect(try tensors[0].materialize() == Array(Self.storage[0..<16]))
            }
        }
    }

    /// The first outcome is kept: the entry is read once however many tensors or writers ask.
    @Test func theEntryIsReadOnce() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let (path, dataOffset) = try Self.archive(in: folder)
        let tensors = try Self.views(path)
        try SourceVerifier(tensors).finish()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[dataOffset + 1] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try SourceVerifier(tensors).finish()
        #expect(throws: ExportError.self) { try SourceVerifier(try Self.views(path)).finish() }
    }

    @Test func recordedCRCOfZeroGivesNoCheck() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let (path, _) = try Self.archive(in: folder, crc: 0, flipping: 3)
        let tensors = try Self.views(path)
        #expect(tensors.flatMap(\.integrityChecks).isEmpty)
        try SourceVerifier(tensors).finish()
    }
}
