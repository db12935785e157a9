import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Every input the fuzzers found (`scripts/fuzz.sh`), kept under
/// `Tests/Fixtures/fuzz-regressions/<target>/` once its reader was fixed, runs through the same
/// entry point the fuzzer calls and must end in a clean `ExportError`: not a crash, not another
/// kind of error. (Leaks and allocations past a limit show only under the fuzzer's sanitizers;
/// here they still run, so the input keeps its clean error.)
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// (target, file) for every kept input.
    static var cases: [(ReaderFuzzTarget, String)] {
        ReaderFuzzTarget.allCases.flatMap { target -> [(ReaderFuzzTarget, String)] in
            let folder = root + "/fuzz-regressions/" + target.rawValue
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { (target, folder + "/" + $0) }
        }
    }

    @Test func everyTargetHasAFolderOrNone() throws {
        // A folder named after no target would be skipped silently: catch a renamed target.
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: Self.root + "/fuzz-regressions")) ?? []
        for folder in folders where !folder.hasPrefix(".") {
            #expect(ReaderFuzzTarget(rawValue: folder) != nil, "fuzz-regressions/\(folder) names no ReaderFuzzTarget")
        }
        #expect(!Self.cases.isEmpty)
    }

    @Test(arguments: cases.map { "\($0.0.rawValue)/\(($0.1 as NSString).lastPathComponent)" })
    func keptInputEndsInAnExportError(_ name: String) throws {
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        let target = try #require(ReaderFuzzTarget(rawValue: parts[0]))
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: Self.root + "/fuzz-regressions/" + name)))
        let shelf = [.config, .originalConfig].contains(target) ? FuzzCheckpointShelf(fixturesRoot: Self.root) : FuzzCheckpointShelf()
        let scratch = try FuzzScratch()
        #expect(throws: ExportError.self) { try target.run(input, scratch: scratch, shelf: shelf) }
    }
}

/// The fuzz entry points accept good files, so a fuzzer's inputs reach past the first check: a
/// harness that wrote its files under the wrong names would refuse everything and fuzz nothing.
@Suite struct FuzzEntryPointTests {
    static let root = FuzzRegressionTests.root

    func run(_ target: ReaderFuzzTarget, _ input: [UInt8], shelf: FuzzCheckpointShelf = FuzzCheckpointShelf()) throws {
        try target.run(input, scratch: try FuzzScratch(), shelf: shelf)
    }

    func fixture(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + relative)))
    }

    /// `FuzzInputParts`' layout: length-prefixed parts, the last one bare.
    func packed(_ parts: [[UInt8]]) -> [UInt8] {
        parts.dropLast().flatMap { part in (0..<4).map { UInt8(truncatingIfNeeded: part.count >> (8 * $0)) } + part } + (parts.last ?? [])
    }

    @Test func splitsWhatItPacks() {
        let parts: [[UInt8]] = [[1, 2, 3], [], [4, 5]]
        #expect(FuzzInputParts.split(packed(parts), count: 3).map(Array.init) == parts)
        // A length past the end takes what is there; missing parts are empty.
        #expect(FuzzInputParts.split([9, 0, 0, 0, 7], count: 3).map(Array.init) == [[7], [], []])
    }

    @Test func singleFileReadersAcceptFixtures() throws {
        try run(.safetensors, try fixture("decoders/gpt2/causal-lm/model.safetensors"))
        try run(.pytorch, try fixture("pytorch/protocol4/pytorch_model.bin"))
        try run(.pytorch, try fixture("pytorch/legacy/protocol4/pytorch_model.bin"))
        try run(.npy, try fixture("tf/openai/params_0.npy"))
        try run(.npz, try fixture("tf/npz/deflated.npz"))
    }

    @Test func multiFileReadersAcceptFixtures() throws {
        try run(.tensorBundle, packed([try fixture("tf/broken/good/model.ckpt.index"), try fixture("tf/broken/good/model.ckpt.data-00000-of-00001")]))
        // The block-crc fixture has a byte of an entry changed: with the block's checksum put
        // right by the target, the reader gets past the block and stops at that entry's data.
        let changed = packed([try fixture("tf/broken/block-crc/model.ckpt.index"), try fixture("tf/broken/block-crc/model.ckpt.data-00000-of-00001")])
        let error = #expect(throws: ExportError.self) { try run(.tensorBundle, changed) }
        #expect(error.map { "\($0)" }?.contains("tensor 'a' (bytes 0..<24) fails its CRC32C check") == true)
        try run(.openAIParams, packed(["params_shapes.json", "params_0.npy", "params_1.npy"].map { try fixture("tf/openai/" + $0) }))
        let shard = { (name: String) in SafetensorsBytes.file([.init(name: name, dtype: "F32", shape: [2], bytes: SafetensorsBytes.float32([1, 2]))]) }
        let index = #"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#
        try run(.safetensorsIndex, packed([Array(index.utf8), shard("a"), shard("b")]))
    }

    /// Every architecture's fixture config builds its graph through the config target.
    @Test func configTargetBuildsEveryFixture() throws {
        let shelf = FuzzCheckpointShelf(fixturesRoot: Self.root)
        #expect(shelf.folders.count >= ArchitectureRegistry.entries.count)
        for folder in shelf.folders {
            try run(.config, try fixture(String(folder.dropFirst(Self.root.count + 1)) + "/config.json"), shelf: shelf)
        }
    }

    /// The original configs of the fixtures, each through the reader the first byte picks, as far
    /// as the weights.
    @Test(arguments: [(0, "tf/bert/bert_config.json"), (1, "formats/albert/tf/albert_config.json"), (2, "tf/gpt2/hparams.json"),
                      (3, "xlnet-tf/base/xlnet_config.json"), (4, "xlnet-tf/sts-b/xlnet_config.json"),
                      (5, "xlnet-tf/squad/xlnet_config.json"), (6, "t5-mesh/v1_0/t5_config.json"),
                      (7, "t5-mesh/v1_1/mt5_config.json"), (8, "transfo-xl-tf/tied/config.json")])
    func originalConfigTargetReadsFixture(_ selector: Int, _ file: String) throws {
        let shelf = FuzzCheckpointShelf(fixturesRoot: Self.root)
        // The shelf's weights are another fixture's (transformers names, other sizes): the model
        // reads the translated config and stops at the first weight whose shape disagrees (or builds,
        // where the sizes agree).
        do {
            try run(.originalConfig, [UInt8(selector)] + (try fixture(file)), shelf: shelf)
        } catch let error as ExportError {
            #expect("\(error)".contains("but the config"), "\(file) was refused before its weights: \(error)")
        }
    }
}

