import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// The legacy (pre-1.6) `torch.save` format: files torch wrote (`Tests/Fixtures/pytorch/legacy`),
/// compared with the safetensors copy of the same tensors; storage views; NumPy objects kept as
/// placeholders; and every way the stream can lie, refused with the file named.
@Suite struct PyTorchLegacyReaderTests {
    /// torch's own `_legacy_load` cannot read a uint16 tensor back, so the legacy fixtures leave it out.
    static func expectMatchesLegacy(_ tensors: [String: TensorData], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var withUInt16 = tensors
        withUInt16["u16"] = try PyTorchFixtures.expected()["u16"]
        try PyTorchFixtures.expectMatches(withUInt16, sourceLocation: sourceLocation)
    }

    @Test(arguments: ["legacy/state_dict/pytorch_model.bin", "legacy/protocol1/pytorch_model.bin", "legacy/protocol4/pytorch_model.bin",
                      "legacy/numpy/pytorch_model.bin"])
    func everyTensorMatchesTheSafetensorsCopy(fixture: String) throws {
        try Self.expectMatchesLegacy(try PyTorchReader.read(file: PyTorchFixtures.path(fixture)))
    }

    @Test func shardedFolder() throws {
        let store = try PyTorchReader.open(folder: PyTorchFixtures.path("legacy/sharded"))
        try Self.expectMatchesLegacy(store.tensors)
    }

    @Test func tensorsAreRegionsOfTheSectionsAfterThePickles() throws {
        let path = PyTorchFixtures.path("legacy/state_dict/pytorch_model.bin")
        let legacy = try PyTorchLegacyFile(file: try ReadOnlyFile(path: path))
        let tensors = try PyTorchReader.read(file: path)
        guard case .file(let weight) = try #require(tensors["0.weight"]).storage,
              case .file(let a) = try #require(tensors["shared.a"]).storage,
              case .file(let b) = try #require(tensors["shared.b"]).storage else {
            Issue.record("legacy tensors should be file regions")
            return
        }
        #expect(weight.length == 24)
        #expect(legacy.sections.values.contains { $0.offset == weight.offset && $0.length == 24 })
        // The 8-byte count precedes each section; the shared storage's slices are 3 elements apart.
        #expect(legacy.sections.values.allSatisfy { $0.offset >= 8 })
        #expect(b.offset - a.offset == 12)
    }

    @Test func storageViews() throws {
        let tensors = try PyTorchReader.read(file: PyTorchFixtures.path("legacy/view/pytorch_model.bin"))
        #expect(tensors["whole"]?.shape == [2, 3])
        #expect(try tensors["whole"]?.materialize() == PyTorchArchiveBytes.float32([0, 0.5, 1, 1.5, 2, 2.5]))
        #expect(try tensors["view"]?.materialize() == PyTorchArchiveBytes.float32([1.5, 2]))
        #expect(try tensors["again"]?.materialize() == PyTorchArchiveBytes.float32([1, 1.5, 2]))
    }

    @Test func numpyObjectsArePlaceholdersAndSkipped() throws {
        let saved = try PyTorchSavedFile(path: PyTorchFixtures.path("legacy/numpy/pytorch_model.bin"))
        guard case .dict(let index) = saved.root else { Issue.record("expected a dict"); return }
        #expect(saved.heap.dicts[index].value(forString: "mask_scores") == .opaque("numpy.ndarray"))
        #expect(saved.heap.dicts[index].value(forString: "score_dtype") == .opaque("numpy.dtype"))
        let tensors = try saved.stateDict()
        #expect(tensors["mask_scores"] == nil && tensors["score_dtype"] == nil)
    }

    @Test func untypedStoragesCountBytes() throws {
        var object = PickleBytes()
        object.op(.emptyDict); object.op(.mark); object.string("u16")
        object.global("torch._utils", "_rebuild_tensor_v3"); object.op(.mark)
        object.storage(("torch", "UntypedStorage"), key: "9", count: 4, legacy: true)
        object.int(0); object.intTuple([2]); object.intTuple([1]); object.op(.newFalse)
        object.global("collections", "OrderedDict"); object.op(.emptyTuple); object.op(.reduce)
        object.global("torch", "uint16"); object.op(.tuple); object.op(.reduce)
        object.op(.setItems); object.op(.stop)
        let bytes = LegacyStreamBytes.stream(object: object.bytes, keys: ["9"], sections: LegacyStreamBytes.section(count: 4, [1, 0, 2, 0]))
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let tensors = try PyTorchReader.read(file: try folder.write("u16.bin", bytes))
        #expect(tensors["u16"]?.dtype == .uint16)
        #expect(try tensors["u16"]?.materialize() == [1, 0, 2, 0])
    }

    @Test func aPickleLongerThanTheFirstWindowIsReadWhole() throws {
        // A 200 KB string before the tensor: the object pickle outgrows the 64 KB first window twice.
        let long = String(repeating: "x", count: 200_000)
        let object = PickleBytes.stateDict { p in
            p.string("note"); p.string(long)
            p.string("w"); p.tensorV2(key: "0", count: 2, size: [2], stride: [1], legacy: true)
        }
        let bytes = LegacyStreamBytes.stream(object: object, keys: ["0"], sections: LegacyStreamBytes.section(count: 2, PyTorchArchiveBytes.float32([7, 8])))
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("long.bin", bytes)
        let tensors = try PyTorchReader.read(file: path)
        #expect(try tensors["w"]?.materialize() == PyTorchArchiveBytes.float32([7, 8]))
        #expect(tensors["w"]?.storage == .file(FileRegion(path: path, offset: bytes.count - 8, length: 8)))
    }

    // MARK: refused fixtures

    private func expectReadFails(_ fixture: String, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let path = PyTorchFixtures.path(fixture)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try PyTorchReader.read(file: path)
        }
    }

    @Test func osSystemIsRefusedAndNeverRuns() {
        try? FileManager.default.removeItem(atPath: PyTorchFixtures.osSystemMarker)
        expectReadFails("bad/legacy_os_system.bin", mentioning: ["the pickled object (pickle 4)", "(GLOBAL)", "names os.system", "Nothing was executed"])
        #expect(!FileManager.default.fileExists(atPath: PyTorchFixtures.osSystemMarker))
    }

    @Test func damagedStreams() {
        expectReadFails("bad/legacy_truncated.bin", mentioning: ["(section 3 of 3", "but the file ends at byte", "truncated"])
        expectReadFails("bad/legacy_count_lies.bin", mentioning: ["(section 1 of 3", "the section says 7 elements", "persistent id says 6"])
        expectReadFails("bad/legacy_missing_key.bin", mentioning: ["the object names storage", "the storage key list (pickle 5) does not list it"])
        expectReadFails("bad/legacy_unlisted_key.bin", mentioning: ["the storage key list names '999', which the object never uses"])
        expectReadFails("bad/legacy_big_endian.bin", mentioning: ["saved on a big-endian machine", "little_endian is False"])
        expectReadFails("bad/legacy_protocol_version.bin", mentioning: ["protocol version is 1002", "only 1001"])
    }

    // MARK: hand-made streams

    private static let fourFloats = LegacyStreamBytes.section(count: 4, PyTorchArchiveBytes.float32([1, 2, 3, 4]))

    @Test func viewsThatDoNotFitTheirStorage() throws {
        let past = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 4, size: [2], stride: [1], legacy: true, view: ("v", 3, 2))
        }
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.stream(object: past, keys: ["0"], sections: Self.fourFloats),
                              mentioning: ["storage view 'v' takes elements 3 to 3+2 of storage '0', which has 4"])
        let twoWays = PickleBytes.stateDict { p in
            p.string("a"); p.tensorV2(key: "0", count: 4, size: [2], stride: [1], legacy: true, view: ("v", 0, 2))
            p.string("b"); p.tensorV2(key: "0", count: 4, size: [2], stride: [1], legacy: true, view: ("v", 1, 2))
        }
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.stream(object: twoWays, keys: ["0"], sections: Self.fourFloats),
                              mentioning: ["storage view 'v' is named again as a different view"])
        let tooLong = PickleBytes.stateDict { p in
            p.string("w"); p.tensorV2(key: "0", count: 4, offset: 1, size: [2], stride: [1], legacy: true, view: ("v", 1, 2))
        }
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.stream(object: tooLong, keys: ["0"], sections: Self.fourFloats),
                              mentioning: ["tensor 'w'", "needs 8 bytes from element 1 of storage '0', which holds only 8 bytes"])
    }

    @Test func persistentIDsOfTheOtherFormat() throws {
        // Five fields in a legacy stream, six in a zip archive: each format has its own.
        let five = PickleBytes.stateDict { p in p.string("w"); p.tensorV2(key: "0", count: 4, size: [4], stride: [1]) }
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.stream(object: five, keys: ["0"], sections: Self.fourFloats),
                              mentioning: ["(BINPERSID)", "expected ('storage', storage class, key, location, numel, view_metadata)"])
        let six = PickleBytes.stateDict { p in p.string("w"); p.tensorV2(key: "0", count: 4, size: [4], stride: [1], legacy: true) }
        try PyTorchArchiveBytes.expectReadFails(PyTorchArchiveBytes.archive(pickle: six, storages: ["0": PyTorchArchiveBytes.float32([1, 2, 3, 4])]),
                                                mentioning: ["(BINPERSID)", "expected ('storage', storage class, key, location, numel)"])
    }

    @Test func streamsThatEndEarly() throws {
        let object = PickleBytes.stateDict { p in p.string("w"); p.tensorV2(key: "0", count: 4, size: [4], stride: [1], legacy: true) }
        let whole = LegacyStreamBytes.stream(object: object, keys: ["0"], sections: Self.fourFloats)
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.magic, mentioning: ["the file ends at byte 15, before the protocol version (pickle 2)"])
        let keyListEnd = whole.count - Self.fourFloats.count
        try PyTorchArchiveBytes.expectReadFails(Array(whole[..<(keyListEnd - 3)]), mentioning: ["the storage key list (pickle 5)", "truncated"])
        try PyTorchArchiveBytes.expectReadFails(Array(whole[..<(keyListEnd + 5)]), mentioning: ["before its 8-byte element count", "truncated"])
        let noKeys = LegacyStreamBytes.stream(object: object, keys: [], sections: [])
        try PyTorchArchiveBytes.expectReadFails(noKeys, mentioning: ["the object names storage '0', but the storage key list (pickle 5) does not list it"])
    }

    @Test func stepsOfTheStreamThatAreNotWhatTorchWrites() throws {
        let object = PickleBytes.stateDict { _ in }
        let version = LegacyStreamBytes.stream(object: object, keys: [], sections: [])
        // The magic number's pickle followed by more opcodes than the number: still refused.
        var trailing = LegacyStreamBytes.magic
        trailing.removeLast()
        trailing += [PickleOpcode.pop.rawValue, PickleOpcode.none.rawValue, PickleOpcode.stop.rawValue]
        try PyTorchArchiveBytes.expectReadFails(trailing + Array(version.dropFirst(LegacyStreamBytes.magic.count)),
                              mentioning: ["the first pickle holds None, expected torch's magic number"])
        try PyTorchArchiveBytes.expectReadFails(LegacyStreamBytes.stream(object: object, keys: ["a", "a"], sections: []),
                              mentioning: ["the storage key list names 'a' twice"])
        var noInfo = LegacyStreamBytes.magic
        var v = PickleBytes(); v.int(1001); v.op(.stop)
        var list = PickleBytes(); list.op(.emptyList); list.op(.stop)
        noInfo += v.bytes + list.bytes + object + list.bytes
        try PyTorchArchiveBytes.expectReadFails(noInfo, mentioning: ["sys_info (pickle 3) is a list, expected a dict"])
    }
}
