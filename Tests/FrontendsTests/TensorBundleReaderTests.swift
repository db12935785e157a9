import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Checkpoints TensorFlow 2.21's `tf.compat.v1.train.Saver` wrote: every tensor must come back
/// with the dtype, shape and bytes TensorFlow itself reads.
@Suite struct TensorBundleReaderTests {
    @Test func readsGoogleBERTNamesAndValues() throws {
        let tensors = try TensorBundleReader.read(prefix: TFFixtures.path("bert/bert_model.ckpt"))
        try TFFixtures.expectMatches(tensors, "bert")
        let query = try #require(tensors["bert/encoder/layer_0/attention/self/query/kernel"])
        #expect(query.dtype == .float32 && query.shape == [4, 4])
        #expect(tensors["bert/embeddings/word_embeddings"]?.shape == [16, 4])
        #expect(tensors["cls/predictions/output_bias"]?.shape == [16])
        let step = try #require(tensors["global_step"])
        #expect(step.dtype == .int64 && step.shape == [])
        #expect(try step.materialize() == BundleBytes.fixed32(12345) + [0, 0, 0, 0])
    }

    @Test func tensorsAreCRCCheckedSourcesOverTheDataFile() throws {
        let prefix = TFFixtures.path("bert/bert_model.ckpt")
        let tensors = try TensorBundleReader.read(prefix: prefix)
        let tensor = try #require(tensors["bert/pooler/dense/kernel"])
        guard case .produced(let produced) = tensor.storage,
              let source = produced.producer as? TensorBundleCheckedRegion else {
            Issue.record("expected a CRC-checked source, got \(tensor.storage)")
            return
        }
        #expect(source.region.path == prefix + ".data-00000-of-00001")
        #expect(source.region.length == 64)
        #expect(source.tensorName == "bert/pooler/dense/kernel")
    }

    @Test func opensGPT2FolderThroughItsCheckpointFile() throws {
        let folder = TFFixtures.path("gpt2")
        let store = try TensorBundleReader.open(folder: folder)
        #expect(store.origin == folder + "/model.ckpt.index")
        try TFFixtures.expectMatches(store.tensors, "gpt2")
        #expect(try store.require("model/h0/attn/c_attn/w").shape == [1, 4, 12])
        #expect(try store.require("model/h1/mlp/c_proj/w").shape == [1, 16, 4])
        #expect(try store.require("model/wte").shape == [16, 4])
        #expect(try store.require("model/ln_f/g").shape == [4])
    }

    @Test func readsEveryDtypeAndSkipsStrings() throws {
        let store = try TensorBundleReader.open(folder: TFFixtures.path("dtypes"))
        // The state file names /home/trainer/run3/model.ckpt-7: its base name is used, not the decoy model.ckpt-3.
        #expect(store.origin.hasSuffix("/model.ckpt-7.index"))
        try TFFixtures.expectMatches(store.tensors, "dtypes")
        #expect(store.tensors["dtypes/string"] == nil)
        let types = Dictionary(uniqueKeysWithValues: store.tensors.map { ($0.key, $0.value.dtype) })
        #expect(types["dtypes/bfloat16"] == .bfloat16)
        #expect(types["dtypes/float16"] == .float16)
        #expect(types["dtypes/float64"] == .float64)
        #expect(types["dtypes/bool"] == .bool)
        #expect(types["dtypes/uint8"] == .uint8)
        #expect(types["dtypes/int8"] == .int8)
        #expect(types["dtypes/int16"] == .int16)
        #expect(types["dtypes/int32"] == .int32)
        #expect(store.tensors["dtypes/empty"]?.shape == [0, 3])
        #expect(store.tensors["dtypes/scalar"]?.shape == [])
    }

    @Test func readsTwoShardCheckpoint() throws {
        let prefix = TFFixtures.path("sharded/model.ckpt")
        let tensors = try TensorBundleReader.read(prefix: prefix)
        try TFFixtures.expectMatches(tensors, "sharded")
        let files = Set(tensors.values.compactMap { tensor -> String? in
            guard case .produced(let produced) = tensor.storage else { return nil }
            return (produced.producer as? TensorBundleCheckedRegion)?.region.path
        })
        #expect(files == [prefix + ".data-00000-of-00002", prefix + ".data-00001-of-00002"])
    }

    @Test func recognizesBundleFoldersOnly() {
        #expect(TensorBundleReader.recognizes(folder: TFFixtures.path("bert")))
        #expect(TensorBundleReader.recognizes(folder: TFFixtures.path("gpt2")))
        #expect(!TensorBundleReader.recognizes(folder: TFFixtures.path("npy")))
        #expect(!TensorBundleReader.recognizes(folder: TFFixtures.path("no-such-folder")))
    }

    @Test func opensTheSingleBundleOfAFolderWithoutStateFile() throws {
        let store = try TensorBundleReader.open(folder: TFFixtures.path("bert"))
        #expect(store.origin == TFFixtures.path("bert/bert_model.ckpt.index"))
        #expect(store.contains("bert/embeddings/LayerNorm/gamma"))
    }

    @Test func stateFilePathsAreParsed() {
        #expect(TensorBundleCheckpointState.modelCheckpointPath(in: "model_checkpoint_path: \"model.ckpt\"\n") == "model.ckpt")
        #expect(TensorBundleCheckpointState.modelCheckpointPath(in: "all_model_checkpoint_paths: \"a\"\n  model_checkpoint_path:\"x\\\"y\"") == "x\"y")
        #expect(TensorBundleCheckpointState.modelCheckpointPath(in: "model_checkpoint_path: unquoted") == nil)
    }

    /// Many entries over several data blocks, with prefix-compressed keys and restart points, as
    /// a large model's index has them (TensorFlow writes 256 KB blocks, so tiny fixtures have one).
    @Test func readsManyBlocksWithPrefixCompressedKeys() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        var data: [UInt8] = []
        var entries: [(key: [UInt8], value: [UInt8])] = [([], BundleBytes.header())]
        var values: [String: [UInt8]] = [:]
        for i in 0..<40 {
            let name = "bert/encoder/layer_\(i / 4)/attention/self/\(["key", "query", "value", "zz"][i % 4])/kernel"
            let bytes = BundleBytes.float32([Float(i), Float(-i)])
            entries.append((BundleBytes.key(name), BundleBytes.entry(shape: [2], offset: UInt64(data.count), size: 8, crcOf: bytes)))
            values[name] = bytes
            data += bytes
        }
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
        try folder.write("m.ckpt.index", BundleBytes.table(entries, perBlock: 7, restartInterval: 3))
        try folder.write("m.ckpt.data-00000-of-00001", data)

        let tensors = try TensorBundleReader.read(prefix: folder.file("m.ckpt"))
        #expect(tensors.count == 40)
        for (name, bytes) in values {
            #expect(try tensors[name]?.materialize() == bytes, "\(name)")
        }
    }

    @Test func skipsUnknownFieldsAndNonWeightTypes() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        let bytes = BundleBytes.float32([1, 2])
        let unknown = BundleBytes.field(99, varint: 5) + BundleBytes.field(98, bytes: [1, 2, 3])
        try folder.write("m.index", BundleBytes.table([
            ([], BundleBytes.header() + unknown),
            (BundleBytes.key("_CHECKPOINTABLE_OBJECT_GRAPH"), BundleBytes.entry(dtype: 7, shape: [], size: 0)),
            (BundleBytes.key("iterator"), BundleBytes.entry(dtype: 21, shape: [], size: 0)),
            (BundleBytes.key("w"), BundleBytes.entry(shape: [2], size: 8, crcOf: bytes, extra: unknown)),
        ]))
        try folder.write("m.data-00000-of-00001", bytes)
        let tensors = try TensorBundleReader.read(prefix: folder.file("m"))
        #expect(Array(tensors.keys) == ["w"])
        #expect(try tensors["w"]?.materialize() == bytes)
    }
}
