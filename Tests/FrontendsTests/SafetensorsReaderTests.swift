import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Good single files: dtypes, shapes, absolute regions, and the bytes those regions hold.
@Suite struct SafetensorsSingleFileTests {
    @Test func readsDtypesShapesRegionsAndBytes() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let weight = SafetensorsBytes.float32([1, 2, 3, 4, 5, 6])
        let ids = SafetensorsBytes.int64([7, -8])
        let half: [UInt8] = [0x00, 0x3C, 0x00, 0x40, 0x00, 0x42]
        let flags: [UInt8] = [1, 0, 1]
        let path = try folder.write("model.safetensors", SafetensorsBytes.file([
            .init(name: "ids", dtype: "I64", shape: [2], bytes: ids),
            .init(name: "layer.weight", dtype: "F32", shape: [2, 3], bytes: weight),
            .init(name: "scale", dtype: "BF16", shape: [], bytes: [0x80, 0x3F]),
            .init(name: "half", dtype: "F16", shape: [3], bytes: half),
            .init(name: "flags", dtype: "BOOL", shape: [3], bytes: flags),
            .init(name: "nothing", dtype: "U8", shape: [0, 5], bytes: []),
        ]))

        let tensors = try SafetensorsReader.read(file: path)

        #expect(tensors.count == 6)  // __metadata__ is not a tensor
        let layer = try #require(tensors["layer.weight"])
        #expect(layer.dtype == .float32)
        #expect(layer.shape == [2, 3])
        #expect(try layer.materialize() == weight)
        #expect(tensors["ids"]?.dtype == .int64)
        #expect(try tensors["ids"]?.materialize() == ids)
        #expect(tensors["scale"]?.dtype == .bfloat16)
        #expect(tensors["scale"]?.shape == [])
        #expect(try tensors["scale"]?.materialize() == [0x80, 0x3F])
        #expect(tensors["half"]?.dtype == .float16)
        #expect(try tensors["half"]?.materialize() == half)
        #expect(tensors["flags"]?.dtype == .bool)
        #expect(try tensors["flags"]?.materialize() == flags)
        #expect(tensors["nothing"]?.shape == [0, 5])
        #expect(try tensors["nothing"]?.materialize() == [])

        // Regions are absolute: 8 bytes of length, the header, then the tensor's begin offset.
        let fileBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(fileBytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard case .file(let region) = layer.storage else {
            Issue.record("expected a file-backed tensor, got \(layer.storage)")
            return
        }
        #expect(region.path == path)
        #expect(region.offset == 8 + headerLength + ids.count)
        #expect(region.length == 24)
    }

    @Test func mapsEverySupportedDtype() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let expected: [(String, DataType)] = [
            ("F64", .float64), ("F32", .float32), ("F16", .float16), ("BF16", .bfloat16),
            ("I64", .int64), ("I32", .int32), ("I16", .int16), ("I8", .int8),
            ("U64", .uint64), ("U32", .uint32), ("U16", .uint16), ("U8", .uint8), ("BOOL", .bool),
        ]
        let path = try folder.write("all.safetensors", SafetensorsBytes.file(expected.map { name, type in
            .init(name: "t_\(name)", dtype: name, shape: [2], bytes: Array(repeating: 1, count: 2 * type.byteSize))
        }))

        let tensors = try SafetensorsReader.read(file: path)

        for (name, type) in expected {
            #expect(tensors["t_\(name)"]?.dtype == type, "\(name)")
            #expect(tensors["t_\(name)"]?.shape == [2], "\(name)")
        }
    }

    /// Holes between tensors and bytes after the last one are tolerated: each tensor still reads
    /// exactly its own range, inside the file.
    @Test func toleratesHolesInTheDataBuffer() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let data: [UInt8] = [1, 2, 3, 4, 0xEE, 0xEE, 5, 6, 7, 8, 0xEE]
        let path = try folder.write("holes.safetensors", SafetensorsBytes.file(
            header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2,2],"data_offsets":[6,10]}}"#,
            data: data))

        let tensors = try SafetensorsReader.read(file: path)

        #expect(try tensors["a"]?.materialize() == [1, 2, 3, 4])
        #expect(try tensors["b"]?.materialize() == [5, 6, 7, 8])
    }

    @Test func acceptsAnEmptyHeaderObject() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let path = try folder.write("empty.safetensors", SafetensorsBytes.file(header: "{}"))
        #expect(try SafetensorsReader.read(file: path).isEmpty)
    }
}

/// Folders: single file, sharded through the index, loose files; and detection.
@Suite struct SafetensorsFolderTests {
    /// Writes a two-shard checkpoint and its index into `folder`.
    private func writeShardedCheckpoint(in folder: SafetensorsTempFolder, weightMap: String? = nil) throws {
        try folder.write("model-00001-of-00002.safetensors", SafetensorsBytes.file([
            .init(name: "embed.weight", dtype: "F32", shape: [2, 2], bytes: SafetensorsBytes.float32([1, 2, 3, 4])),
        ]))
        try folder.write("model-00002-of-00002.safetensors", SafetensorsBytes.file([
            .init(name: "head.weight", dtype: "F32", shape: [2], bytes: SafetensorsBytes.float32([5, 6])),
            .init(name: "head.bias", dtype: "F32", shape: [1], bytes: SafetensorsBytes.float32([7])),
        ]))
        let map = weightMap ?? """
            {"embed.weight": "model-00001-of-00002.safetensors",
             "head.weight": "model-00002-of-00002.safetensors",
             "head.bias": "model-00002-of-00002.safetensors"}
            """
        try folder.write("model.safetensors.index.json", text: #"{"metadata": {"total_size": 28}, "weight_map": \#(map)}"#)
    }

    @Test func opensAShardedCheckpointThroughItsIndex() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder)

        let store = try SafetensorsReader.open(folder: folder.path)

        #expect(Set(store.tensors.keys) == ["embed.weight", "head.weight", "head.bias"])
        #expect(store.origin == folder.file("model.safetensors.index.json"))
        let head = try store.require("head.weight")
        #expect(head.shape == [2])
        #expect(try head.materialize() == SafetensorsBytes.float32([5, 6]))
        #expect(try store.require("embed.weight").materialize() == SafetensorsBytes.float32([1, 2, 3, 4]))
        guard case .file(let region) = try store.require("head.bias").storage else {
            Issue.record("expected a file-backed tensor")
            return
        }
        #expect(region.path == folder.file("model-00002-of-00002.safetensors"))
    }

    /// The store holds what the index lists; a tensor a shard holds but the index omits is left out.
    @Test func shardedStoreHoldsExactlyTheIndexedTensors() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder, weightMap: """
            {"embed.weight": "model-00001-of-00002.safetensors", "head.weight": "model-00002-of-00002.safetensors"}
            """)
        let store = try SafetensorsReader.open(folder: folder.path)
        #expect(Set(store.tensors.keys) == ["embed.weight", "head.weight"])
    }

    @Test func prefersModelSafetensorsOverOtherFiles() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder)
        let single = try folder.write("model.safetensors", SafetensorsBytes.file([
            .init(name: "only", dtype: "U8", shape: [1], bytes: [9]),
        ]))

        let store = try SafetensorsReader.open(folder: folder.path)

        #expect(Array(store.tensors.keys) == ["only"])
        #expect(store.origin == single)
    }

    @Test func mergesLooseFilesWithoutAnIndex() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try folder.write("encoder.safetensors", SafetensorsBytes.file([.init(name: "a", dtype: "U8", shape: [1], bytes: [1])]))
        try folder.write("decoder.safetensors", SafetensorsBytes.file([.init(name: "b", dtype: "U8", shape: [1], bytes: [2])]))
        try folder.write("notes.txt", text: "not weights")

        let store = try SafetensorsReader.open(folder: folder.path)

        #expect(Set(store.tensors.keys) == ["a", "b"])
        #expect(try store.require("b").materialize() == [2])
    }

    @Test func recognizesEachLayoutAndNothingElse() throws {
        let single = try SafetensorsTempFolder()
        let sharded = try SafetensorsTempFolder()
        let loose = try SafetensorsTempFolder()
        let other = try SafetensorsTempFolder()
        defer { [single, sharded, loose, other].forEach { $0.remove() } }
        try single.write("model.safetensors", SafetensorsBytes.file(header: "{}"))
        try writeShardedCheckpoint(in: sharded)
        try loose.write("weights.safetensors", SafetensorsBytes.file(header: "{}"))
        try other.write("pytorch_model.bin", [0x50, 0x4B])
        try other.write(".hidden.safetensors", SafetensorsBytes.file(header: "{}"))

        #expect(SafetensorsReader.recognizes(folder: single.path))
        #expect(SafetensorsReader.recognizes(folder: sharded.path))
        #expect(SafetensorsReader.recognizes(folder: loose.path))
        #expect(!SafetensorsReader.recognizes(folder: other.path))
        #expect(!SafetensorsReader.recognizes(folder: other.file("missing")))
        #expect(!SafetensorsReader.recognizes(folder: single.file("model.safetensors")))
    }

    @Test func folderWithoutWeightsIsAnError() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try folder.write("config.json", text: "{}")
        expectReaderError(startingWith: folder.path, mentioning: ["no safetensors weights", "model.safetensors"]) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
        expectReaderError(startingWith: folder.file("absent"), mentioning: ["no such folder"]) {
            _ = try SafetensorsReader.open(folder: folder.file("absent"))
        }
    }

    @Test func looseFilesDefiningOneNameTwiceAreAnError() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let first = try folder.write("a.safetensors", SafetensorsBytes.file([.init(name: "w", dtype: "U8", shape: [1], bytes: [1])]))
        let second = try folder.write("b.safetensors", SafetensorsBytes.file([.init(name: "w", dtype: "U8", shape: [1], bytes: [2])]))
        expectReaderError(startingWith: folder.path, mentioning: ["tensor 'w'", first, second]) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
    }

    @Test func indexNamingAMissingShardIsAnError() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder, weightMap: """
            {"embed.weight": "model-00001-of-00002.safetensors", "head.weight": "model-00003-of-00002.safetensors"}
            """)
        expectReaderError(
            startingWith: folder.file("model.safetensors.index.json"),
            mentioning: ["model-00003-of-00002.safetensors", "head.weight", "does not exist"]
        ) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
    }

    @Test func indexNamingATensorAbsentFromItsShardIsAnError() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder, weightMap: """
            {"embed.weight": "model-00001-of-00002.safetensors", "head.weight": "model-00001-of-00002.safetensors"}
            """)
        expectReaderError(
            startingWith: folder.file("model.safetensors.index.json"),
            mentioning: ["tensor 'head.weight'", "model-00001-of-00002.safetensors", "has no tensor of that name"]
        ) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
    }

    @Test(arguments: ["../model-00001-of-00002.safetensors", "/etc/passwd", "sub/model.safetensors", ".."])
    func shardNamesLeavingTheFolderAreRefused(shard: String) throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder, weightMap: #"{"embed.weight": "\#(shard)"}"#)
        expectReaderError(
            startingWith: folder.file("model.safetensors.index.json"),
            mentioning: ["tensor 'embed.weight'", "'\(shard)'", "not a plain file name"]
        ) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
    }

    @Test func brokenIndexFilesAreErrors() throws {
        let cases: [(index: String, problem: String)] = [
            (#"{"weight_map": {"a": "x.safetensors""#, "is not valid JSON"),
            (#"["model-00001-of-00002.safetensors"]"#, "found an array"),
            (#"{"metadata": {}}"#, "has no \"weight_map\""),
            (#"{"weight_map": ["a"]}"#, "must be an object"),
            (#"{"weight_map": {}}"#, "is empty"),
            (#"{"weight_map": {"a": 3}}"#, "must be a shard file name"),
            (#"{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}"#, "lists tensor 'a' more than once"),
            ("", "is empty (0 bytes)"),
        ]
        for (index, problem) in cases {
            let folder = try SafetensorsTempFolder()
            defer { folder.remove() }
            let indexPath = try folder.write("model.safetensors.index.json", text: index)
            expectReaderError(startingWith: indexPath, mentioning: [problem]) {
                _ = try SafetensorsReader.open(folder: folder.path)
            }
        }
    }

    /// A broken shard is reported under the shard's own path, not the index's.
    @Test func brokenShardIsReportedByItsOwnPath() throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        try writeShardedCheckpoint(in: folder)
        let shard = try folder.write("model-00002-of-00002.safetensors", [1, 2, 3])
        expectReaderError(startingWith: shard, mentioning: ["3 bytes"]) {
            _ = try SafetensorsReader.open(folder: folder.path)
        }
    }
}
