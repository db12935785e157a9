import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Checkpoints the reader must refuse: the hostile and damaged fixtures, and hand-made archives
/// for what torch itself will not write. Every message starts with the file's path.
@Suite struct PyTorchBrokenFileTests {
    private func expectReadFails(_ fixture: String, mentioning fragments: [String],
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let path = PyTorchFixtures.path(fixture)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try PyTorchReader.read(file: path)
        }
    }

    // MARK: hostile pickles

    @Test func osSystemIsRefusedAndNeverRuns() throws {
        try? FileManager.default.removeItem(atPath: PyTorchFixtures.osSystemMarker)
        expectReadFails("bad/global_os_system.bin",
                        mentioning: ["pickle 'archive/data.pkl', byte 2 (GLOBAL)", "names os.system", "Nothing was executed"])
        #expect(!FileManager.default.fileExists(atPath: PyTorchFixtures.osSystemMarker))
    }

    @Test func builtinsEvalIsRefusedAndNeverRuns() throws {
        try? FileManager.default.removeItem(atPath: PyTorchFixtures.evalMarker)
        expectReadFails("bad/global_builtins_eval.bin",
                        mentioning: ["pickle 'evil/data.pkl'", "(STACK_GLOBAL)", "names builtins.eval", "Nothing was executed"])
        #expect(!FileManager.default.fileExists(atPath: PyTorchFixtures.evalMarker))
    }

    // MARK: damaged archives

    @Test func truncatedArchive() {
        expectReadFails("bad/truncated.bin", mentioning: ["no zip end of central directory record", "truncated"])
    }

    @Test func centralDirectoryOffsetPastTheEnd() {
        expectReadFails("bad/cd_offset_past_end.bin", mentioning: ["central directory (offset 2147418112", "lies outside the file"])
    }

    @Test func pickleInflatingToMoreThanItsDeclaredSize() {
        expectReadFails("bad/inflates_past_size.bin", mentioning: ["zip entry 'pytorch_model/data.pkl'", "inflates to more than the"])
    }

    @Test func pickleWithAWrongCRC() {
        expectReadFails("bad/wrong_crc.bin", mentioning: ["zip entry 'pytorch_model/data.pkl' fails its CRC-32 check"])
    }

    @Test func deflatedStorageWithAWrongCRCFailsWhileStreaming() throws {
        let path = PyTorchFixtures.path("bad/wrong_crc_deflated_storage.bin")
        let tensors = try PyTorchReader.read(file: path)  // opening reads no storage
        let weight = try #require(tensors["0.weight"])
        expectReaderError(startingWith: path, mentioning: ["zip entry 'pytorch_model/data/0' fails its CRC-32 check"]) {
            _ = try weight.materialize()
        }
        #expect(try tensors["0.bias"]?.materialize().count == 8)
    }

    @Test func nonContiguousTensor() {
        expectReadFails("bad/non_contiguous.bin",
                        mentioning: ["tensor 'strided'", "non-contiguous view (size [3, 2], stride [4, 2]", ".contiguous()"])
    }

    @Test func bigEndianByteOrder() {
        expectReadFails("bad/big_endian.bin", mentioning: ["saved on a big-endian machine", "little-endian"])
    }

    @Test func zipThatIsNotACheckpoint() {
        expectReadFails("bad/not_pytorch.zip", mentioning: ["not a torch.save checkpoint", "'readme.txt'"])
    }

    @Test func filesThatAreNotZips() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let safetensors = try folder.write("model.bin", [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        expectReaderError(startingWith: safetensors, mentioning: ["is not a PyTorch checkpoint", "starts with bytes 08 00 00", "50 4b 03 04"]) {
            _ = try PyTorchReader.read(file: safetensors)
        }
        let empty = try folder.write("empty.bin", [])
        expectReaderError(startingWith: empty, mentioning: ["is empty (0 bytes)"]) { _ = try PyTorchReader.read(file: empty) }
        var tar = [UInt8](repeating: 0, count: 600)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        let tarPath = try folder.write("old.bin", tar)
        expectReaderError(startingWith: tarPath, mentioning: ["tar archive", "before 0.4"]) { _ = try PyTorchReader.read(file: tarPath) }
    }

    // MARK: hand-made archives

    /// Writes an archive around `pickle` and expects reading it to fail.
    private func expectArchiveFails(pickle: [UInt8], storages: [String: [UInt8]] = [:], extra: [ZipBuilder.Entry] = [],
                                    mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        try PyTorchArchiveBytes.expectReadFails(PyTorchArchiveBytes.archive(pickle: pickle, storages: storages, extra: extra),
                                                mentioning: fragments, sourceLocation: sourceLocation)
    }

    private static let sixFloats = PyTorchArchiveBytes.float32([1, 2, 3, 4, 5, 6])

    @Test func tensorReachingPastItsStorage() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 6, offset: 4, size: [3], stride: [1])
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats],
                               mentioning: ["tensor 'w'", "needs 12 bytes from element 4 of storage '0', which holds only 24 bytes"])
    }

    @Test func storageRecordOfTheWrongSize() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 8, size: [6], stride: [1])
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats],
                               mentioning: ["tensor 'w'", "storage '0' is 8 elements of float32 (32 bytes)", "holds 24"])
    }

    @Test func missingStorageRecord() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "7", count: 6, size: [6], stride: [1])
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats],
                               mentioning: ["tensor 'w'", "storage '7' has no record 'archive/data/7'"])
    }

    @Test func untypedStorageWithoutADtype() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w")
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(.mark)
            p.storage(("torch.storage", "UntypedStorage"), key: "0", count: 24)
            p.int(0); p.intTuple([6]); p.intTuple([1]); p.op(.newFalse); p.op(.none)
            p.op(.tuple)
            p.op(.reduce)
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats],
                               mentioning: ["tensor 'w'", "untyped and nothing names the element type"])
    }

    @Test func hugeSizesDoNotTrap() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 6, size: [1 << 40, 1 << 40], stride: [1 << 40, 1])
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats], mentioning: ["tensor 'w'", "too large to count in 64 bits"])
        let offset = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 6, offset: Int(Int64.max / 2), size: [6], stride: [1])
        }
        try expectArchiveFails(pickle: offset, storages: ["0": Self.sixFloats], mentioning: ["tensor 'w'", "needs 24 bytes from element"])
    }

    @Test func expandedDimensionIsNotContiguous() throws {
        let pickle = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 6, size: [4, 6], stride: [0, 1])
        }
        try expectArchiveFails(pickle: pickle, storages: ["0": Self.sixFloats],
                               mentioning: ["tensor 'w'", "non-contiguous view (size [4, 6], stride [0, 1]"])
    }

    @Test func checkpointNestingTheStateDict() throws {
        var p = PickleBytes()
        p.op(.emptyDict)
        p.string("epoch"); p.int(3); p.op(.setItem)
        p.string("model")
        p.op(.emptyDict)
        p.string("w"); p.tensorV2(key: "0", count: 6, size: [6], stride: [1]); p.op(.setItem)
        p.op(.setItem)
        p.op(.stop)
        try expectArchiveFails(pickle: p.bytes, storages: ["0": Self.sixFloats],
                               mentioning: ["the entry 'model' holds tensors inside a dict", "flat state_dict", "checkpoint['model']"])
    }

    @Test func pickleThatIsNotADict() throws {
        var p = PickleBytes()
        p.op(.emptyList); p.op(.stop)
        try expectArchiveFails(pickle: p.bytes, mentioning: ["the pickle holds a list, expected a state_dict"])
        var q = PickleBytes()
        q.op(.emptyDict); q.string("a"); q.int(1); q.op(.setItem); q.op(.stop)
        try expectArchiveFails(pickle: q.bytes, mentioning: ["dict of 1 entries but none is a tensor"])
    }

    @Test func torchScriptArchive() throws {
        var p = PickleBytes()
        p.op(.emptyDict); p.op(.stop)
        try expectArchiveFails(pickle: p.bytes, extra: [ZipBuilder.Entry("archive/constants.pkl", [0x80, 0x02, 0x29, 0x2E])],
                               mentioning: ["TorchScript archive", "torch.save(model.state_dict()"])
    }

    @Test func severalPickles() throws {
        var p = PickleBytes()
        p.op(.emptyDict); p.op(.stop)
        try expectArchiveFails(pickle: p.bytes, extra: [ZipBuilder.Entry("other/data.pkl", p.bytes)],
                               mentioning: ["several pickles", "'archive/data.pkl'", "'other/data.pkl'"])
    }

    // MARK: folders

    @Test func shardIndexProblems() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let shard = try Data(contentsOf: URL(fileURLWithPath: PyTorchFixtures.path("sharded/pytorch_model-00001-of-00002.bin")))
        try folder.write("pytorch_model-00001-of-00002.bin", [UInt8](shard))

        let index = try folder.write("pytorch_model.bin.index.json", Array(#"{"weight_map": {"0.weight": "../escape.bin"}}"#.utf8))
        expectReaderError(startingWith: index, mentioning: ["shard '../escape.bin', which is not a plain file name"]) {
            _ = try PyTorchReader.open(folder: folder.path)
        }
        try folder.write("pytorch_model.bin.index.json", Array(#"{"weight_map": {"0.weight": "pytorch_model-00002-of-00002.bin"}}"#.utf8))
        expectReaderError(startingWith: index, mentioning: ["names shard 'pytorch_model-00002-of-00002.bin'", "does not exist"]) {
            _ = try PyTorchReader.open(folder: folder.path)
        }
        try folder.write("pytorch_model.bin.index.json", Array(#"{"weight_map": {"nope": "pytorch_model-00001-of-00002.bin"}}"#.utf8))
        expectReaderError(startingWith: index, mentioning: ["puts tensor 'nope' in shard", "has no tensor of that name"]) {
            _ = try PyTorchReader.open(folder: folder.path)
        }
    }

    @Test func looseFilesDefiningOneTensorTwice() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: PyTorchFixtures.path("loose/first.bin"))))
        try folder.write("a.bin", bytes)
        try folder.write("b.bin", bytes)
        expectReaderError(startingWith: folder.path, mentioning: ["is defined in both", "a.bin", "b.bin"]) {
            _ = try PyTorchReader.open(folder: folder.path)
        }
    }

    @Test func foldersWithoutWeights() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        expectReaderError(startingWith: folder.path, mentioning: ["holds no PyTorch weights", "pytorch_model.bin"]) {
            _ = try PyTorchReader.open(folder: folder.path)
        }
        let missing = folder.file("missing")
        expectReaderError(startingWith: missing, mentioning: ["no such folder"]) { _ = try PyTorchReader.open(folder: missing) }
    }
}
