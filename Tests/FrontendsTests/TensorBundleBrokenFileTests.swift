import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Broken and refused bundles: the corrupted copies `make_tf_fixtures.py` writes, real checkpoints
/// this reader does not support, and cases built byte by byte. Every error starts with the file
/// it is about and says what is wrong.
@Suite struct TensorBundleBrokenFileTests {
    private func broken(_ name: String) -> String { TFFixtures.path("broken/\(name)/model.ckpt") }

    @Test func theUncorruptedOriginalReads() throws {
        let tensors = try TensorBundleReader.read(prefix: broken("good"))
        #expect(tensors["a"]?.shape == [2, 3])
        #expect(try tensors["a"]?.materialize().count == 24)
        #expect(try tensors["b"]?.materialize().count == 16)
    }

    @Test func tensorCRCMismatchFailsWhileStreaming() throws {
        let prefix = broken("tensor-crc")
        let tensors = try TensorBundleReader.read(prefix: prefix)  // opening reads only the index
        #expect(try tensors["b"]?.materialize().count == 16)
        let a = try #require(tensors["a"])
        expectReaderError(startingWith: prefix + ".data-00000-of-00001",
                          mentioning: ["tensor 'a'", "fails its CRC32C check", prefix + ".index", "corrupt"]) {
            _ = try a.materialize()
        }
    }

    @Test func blockCRCMismatch() {
        expectReaderError(startingWith: broken("block-crc") + ".index", mentioning: ["data block 0", "fails its CRC32C check", "corrupt"]) {
            _ = try TensorBundleReader.read(prefix: broken("block-crc"))
        }
    }

    @Test func truncatedIndex() {
        expectReaderError(startingWith: broken("truncated-index") + ".index", mentioning: ["only 30 bytes", "48-byte footer", "truncated"]) {
            _ = try TensorBundleReader.read(prefix: broken("truncated-index"))
        }
    }

    @Test func badMagic() {
        expectReaderError(startingWith: broken("bad-magic") + ".index", mentioning: ["magic number", "0xdb4775248b80fb57"]) {
            _ = try TensorBundleReader.read(prefix: broken("bad-magic"))
        }
    }

    @Test func snappyCompressedBlock() {
        expectReaderError(startingWith: broken("snappy") + ".index", mentioning: ["snappy-compressed", "compression type 1", "uncompressed"]) {
            _ = try TensorBundleReader.read(prefix: broken("snappy"))
        }
    }

    @Test func offsetPastTheEndOfTheDataFile() {
        let prefix = broken("offset-past-end")
        expectReaderError(startingWith: prefix + ".data-00000-of-00001",
                          mentioning: ["tensor 'b'", "offset 24", "16 bytes", "(30 bytes)", "truncated"]) {
            _ = try TensorBundleReader.read(prefix: prefix)
        }
    }

    @Test func missingIndex() {
        let prefix = TFFixtures.path("broken/nothing-here/model.ckpt")
        expectReaderError(startingWith: prefix + ".index", mentioning: ["no such file", "model.ckpt.data-NNNNN-of-NNNNN"]) {
            _ = try TensorBundleReader.read(prefix: prefix)
        }
    }

    @Test func partitionedVariableIsRefused() {
        let prefix = TFFixtures.path("refused/partitioned/model.ckpt")
        expectReaderError(startingWith: prefix + ".index", mentioning: ["'encoder/partitioned'", "partitioned variable", "2 slices"]) {
            _ = try TensorBundleReader.read(prefix: prefix)
        }
    }

    @Test func complexDtypeIsRefused() {
        let prefix = TFFixtures.path("refused/complex/model.ckpt")
        expectReaderError(startingWith: prefix + ".index", mentioning: ["'encoder/phase'", "DT_COMPLEX64", "not supported"]) {
            _ = try TensorBundleReader.read(prefix: prefix)
        }
    }

    @Test func folderWithoutBundle() {
        let folder = TFFixtures.path("npy")
        expectReaderError(startingWith: folder, mentioning: ["no TensorFlow checkpoint", ".index"]) {
            _ = try TensorBundleReader.open(folder: folder)
        }
    }

    @Test func folderWithTwoBundlesAndNoStateFile() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        for name in ["a.ckpt", "b.ckpt"] {
            try folder.copy("broken/good/model.ckpt.index", as: name + ".index")
            try folder.copy("broken/good/model.ckpt.data-00000-of-00001", as: name + ".data-00000-of-00001")
        }
        expectReaderError(startingWith: folder.path, mentioning: ["2 TensorFlow checkpoints", "a.ckpt.index, b.ckpt.index", "model_checkpoint_path"]) {
            _ = try TensorBundleReader.open(folder: folder.path)
        }
        try folder.write("checkpoint", Array("model_checkpoint_path: \"b.ckpt\"\n".utf8))
        #expect(try TensorBundleReader.open(folder: folder.path).origin == folder.file("b.ckpt.index"))
    }

    // MARK: built byte by byte

    /// Writes `entries` (after a default header unless `header` is given) as bundle `m` with
    /// `data` as its one shard, and expects reading it to fail.
    private func expectFails(_ entries: [(key: [UInt8], value: [UInt8])], header: [UInt8]? = BundleBytes.header(),
                             data: [UInt8] = [], inDataFile: Bool = false, mentioning fragments: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        let all = (header.map { [([UInt8](), $0)] } ?? []) + entries
        try folder.write("m.index", BundleBytes.table(all))
        try folder.write("m.data-00000-of-00001", data)
        let file = inDataFile ? folder.file("m.data-00000-of-00001") : folder.file("m.index")
        expectReaderError(startingWith: file, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try TensorBundleReader.read(prefix: folder.file("m"))
        }
    }

    private let w = BundleBytes.key("w")

    @Test func bigEndianBundle() throws {
        try expectFails([], header: BundleBytes.header(endianness: 1), mentioning: ["big-endian", "little-endian"])
    }

    @Test func bundleFromANewerFormatVersion() throws {
        try expectFails([], header: BundleHeaderBytes.newer, mentioning: ["version 2", "implements version 1"])
    }

    @Test func missingHeader() throws {
        try expectFails([(w, BundleBytes.entry(shape: [1], size: 4))], header: nil,
                        mentioning: ["first entry must be the bundle header", "'w'"])
    }

    @Test func sizeThatDisagreesWithShape() throws {
        try expectFails([(w, BundleBytes.entry(shape: [2, 3], size: 20))], data: Array(repeating: 0, count: 24),
                        mentioning: ["tensor 'w'", "float32[2, 3] needs 24 bytes", "says 20"])
    }

    @Test func shapeWhoseSizeOverflows() throws {
        try expectFails([(w, BundleBytes.entry(shape: [1 << 40, 1 << 40], size: 4))], mentioning: ["tensor 'w'", "64-bit"])
    }

    @Test func shardOutsideTheHeader() throws {
        try expectFails([(w, BundleBytes.entry(shape: [1], shard: 3, size: 4))], mentioning: ["shard_id 3", "1 shard"])
    }

    @Test func missingShardFile() throws {
        try expectFails([(w, BundleBytes.entry(shape: [1], size: 4))], header: BundleBytes.header(shards: 2),
                        mentioning: ["tensor 'w'", "m.data-00000-of-00002", "cannot be opened"])
    }

    @Test func zeroShards() throws {
        try expectFails([], header: BundleBytes.header(shards: 0), mentioning: ["num_shards 0"])
    }

    @Test func unknownDtype() throws {
        try expectFails([(w, BundleBytes.entry(dtype: 77, shape: [1], size: 4))], mentioning: ["tensor 'w'", "DataType 77", "not supported"])
    }

    @Test func entryWithWrongWireType() throws {
        let bad = BundleBytes.field(1, bytes: [1])  // dtype as a length-delimited field
        try expectFails([(w, bad)], mentioning: ["tensor 'w'", "dtype", "length-delimited", "expected varint"])
    }

    @Test func entryCutShort() throws {
        let entry = BundleBytes.entry(shape: [2], size: 8)
        try expectFails([(w, Array(entry.dropLast(2)))], mentioning: ["tensor 'w'", "entry is malformed", "fixed32"])
    }

    @Test func keysOutOfOrder() throws {
        let entry = BundleBytes.entry(shape: [0], size: 0)
        try expectFails([(BundleBytes.key("z"), entry), (BundleBytes.key("a"), entry)],
                        mentioning: ["data block 0", "out of order", "'a' follows 'z'"])
    }

    @Test func negativeOffset() throws {
        let entry = BundleBytes.field(1, varint: 1) + BundleBytes.field(4, varint: UInt64(bitPattern: -8))
        try expectFails([(w, entry)], mentioning: ["tensor 'w'", "offset", "negative"])
    }
}

/// Header bytes no TensorFlow version writes yet: `min_consumer` 2.
enum BundleHeaderBytes {
    static let newer = BundleBytes.header(minConsumer: 2)
}
