import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Checkpoints torch wrote, read back tensor by tensor and compared with the same tensors as the
/// safetensors package wrote them; folder layouts; and round trips through PyTorchWriter.
@Suite struct PyTorchReaderTests {
    @Test(arguments: ["state_dict/pytorch_model.bin", "custom/weights.custom.pt", "nocrc/pytorch_model.bin", "protocol1/pytorch_model.bin",
                      "protocol4/pytorch_model.bin", "deflated/pytorch_model.bin"])
    func everyTensorMatchesTheSafetensorsCopy(fixture: String) throws {
        try PyTorchFixtures.expectMatches(try PyTorchReader.read(file: PyTorchFixtures.path(fixture)))
    }

    @Test func storedTensorsAreRegionsOfTheirStorages() throws {
        let path = PyTorchFixtures.path("state_dict/pytorch_model.bin")
        let tensors = try PyTorchReader.read(file: path)
        let zip = try ZipArchive(path: path)

        // float32 [2, 3] of `0.weight` is all of storage 0.
        let weight = try #require(tensors["0.weight"])
        let storage0 = try zip.locate("pytorch_model/data/0").data
        #expect(weight.dtype == .float32 && weight.shape == [2, 3])
        #expect(weight.storage == .file(FileRegion(path: path, offset: storage0.offset, length: 24)))

        // Two slices of one shared storage: offsets 2 and 5 elements into the same record.
        guard case .file(let a) = try #require(tensors["shared.a"]).storage,
              case .file(let b) = try #require(tensors["shared.b"]).storage else {
            Issue.record("shared slices should be file regions")
            return
        }
        #expect(b.offset - a.offset == 12)
        #expect(a.length == 12 && b.length == 20)

        // The transpose of a 2-D block is a transpose applied while streaming.
        let transposed = try #require(tensors["transposed"])
        #expect(transposed.shape == [3, 2])
        guard case .transformed(let base, .transpose2D) = transposed.storage else {
            Issue.record("expected a transposed view, got \(transposed.storage)")
            return
        }
        #expect(base.shape == [2, 3])
        #expect(try transposed.materialize() == PyTorchArchiveBytes.float32([0, 3, 1, 4, 2, 5]))

        // 0-d and empty tensors.
        #expect(tensors["scalar"]?.shape == [])
        #expect(try tensors["scalar"]?.materialize() == PyTorchArchiveBytes.float32([3.5]))
        #expect(tensors["empty"]?.shape == [0, 4])
        #expect(try tensors["empty"]?.materialize() == [])
        #expect(tensors["u16"]?.dtype == .uint16)
        #expect(tensors["row"]?.shape == [1, 4])
    }

    @Test func deflatedTensorsInflateWhileStreaming() throws {
        let tensors = try PyTorchReader.read(file: PyTorchFixtures.path("deflated/pytorch_model.bin"))
        let weight = try #require(tensors["0.weight"])
        guard case .produced = weight.storage else {
            Issue.record("a deflated storage should be produced while streaming, got \(weight.storage)")
            return
        }
        let sink = ChunkRecorder()
        try weight.stream(into: sink)
        #expect(sink.bytes.count == 24)
    }

    @Test func customArchiveNameIsFoundFromDataPkl() throws {
        let zip = try ZipArchive(path: PyTorchFixtures.path("custom/weights.custom.pt"))
        #expect(zip.entry(named: "weights.custom/data.pkl") != nil)
        #expect(try PyTorchArchive(path: PyTorchFixtures.path("custom/weights.custom.pt")).prefix == "weights.custom")
    }

    // MARK: folders

    @Test func opensASingleFileFolder() throws {
        let folder = PyTorchFixtures.path("state_dict")
        #expect(PyTorchReader.recognizes(folder: folder))
        let store = try PyTorchReader.open(folder: folder)
        #expect(store.origin == folder + "/pytorch_model.bin")
        try PyTorchFixtures.expectMatches(store.tensors)
    }

    @Test func opensAShardedFolderThroughItsIndex() throws {
        let folder = PyTorchFixtures.path("sharded")
        #expect(try PyTorchReader.layout(of: folder) == .sharded(indexPath: folder + "/pytorch_model.bin.index.json"))
        let store = try PyTorchReader.open(folder: folder)
        #expect(store.origin.hasSuffix("pytorch_model.bin.index.json"))
        try PyTorchFixtures.expectMatches(store.tensors)
    }

    @Test func opensLooseBinFilesWithoutAnIndex() throws {
        let folder = PyTorchFixtures.path("loose")
        guard case .looseFiles(let files) = try PyTorchReader.layout(of: folder) else {
            Issue.record("expected loose files")
            return
        }
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["first.bin", "second.bin"])
        try PyTorchFixtures.expectMatches(try PyTorchReader.open(folder: folder).tensors)
    }

    @Test func recognizesOnlyFoldersWithBinWeights() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        #expect(!PyTorchReader.recognizes(folder: folder.path))
        try folder.write("training_args.bin", [1, 2, 3])
        try folder.write("model.safetensors", [1, 2, 3])
        #expect(!PyTorchReader.recognizes(folder: folder.path))
        #expect(!PyTorchReader.recognizes(folder: folder.file("model.safetensors")))
        #expect(!PyTorchReader.recognizes(folder: folder.file("missing")))
        try folder.write("weights.bin", [1, 2, 3])
        #expect(PyTorchReader.recognizes(folder: folder.path))
    }

    // MARK: round trips

    @Test func readsWhatPyTorchWriterWrites() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let tensors: [String: TensorData] = [
            "w": .float32([1, 2, 3, 4, 5, 6], shape: [2, 3]),
            "ids": .int64([7, -8]),
            "flag": .bool([true, false, true]),
            "scalar": .float32([0.5], shape: []),
        ]
        let path = folder.file("pytorch_model.bin")
        try PyTorchWriter.write(tensors, to: path)
        let read = try PyTorchReader.read(file: path)
        #expect(Set(read.keys) == Set(tensors.keys))
        for (name, tensor) in tensors {
            #expect(read[name]?.dtype == tensor.dtype)
            #expect(read[name]?.shape == tensor.shape)
            #expect(try read[name]?.materialize() == (try tensor.materialize()))
        }
    }

    @Test func untypedStoragesAndNonTensorEntries() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let pickle = PickleBytes.stateDict { p in
            p.string("u16")
            p.global("torch._utils", "_rebuild_tensor_v3")
            p.op(.mark)
            p.storage(("torch.storage", "UntypedStorage"), key: "0", count: 6)
            p.int(1); p.intTuple([2]); p.intTuple([1]); p.op(.newFalse)
            p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
            p.global("torch", "uint16")
            p.op(.tuple)
            p.op(.reduce)
            p.string("step"); p.int(3)          // not a tensor: skipped
            p.string("note"); p.string("text")
        }
        let path = try folder.write("x.bin", PyTorchArchiveBytes.archive(pickle: pickle, storages: ["0": [1, 0, 2, 0, 3, 0]]))
        let tensors = try PyTorchReader.read(file: path)
        #expect(Array(tensors.keys) == ["u16"])
        #expect(tensors["u16"]?.dtype == .uint16)
        #expect(try tensors["u16"]?.materialize() == [2, 0, 3, 0])
    }
}
