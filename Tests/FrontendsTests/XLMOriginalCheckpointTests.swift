import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// facebookresearch/XLM's `.pth` files (`Tests/Fixtures/xlm-original`, made by make_pytorch_fixtures.py
/// --xlm-only) read as transformers' conversion script reads them, and hand-made ones for the rules.
@Suite struct XLMOriginalCheckpointTests {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/xlm-original").path

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    @Test(arguments: ["legacy/mlm_tiny.pth", "zip/mlm_tiny.pth"])
    func convertsAsTransformersScriptDoes(file: String) throws {
        let original = try XLMOriginalCheckpoint(path: Self.root + "/" + file)
        #expect(original.fileFormat == (file.hasPrefix("legacy") ? "legacy torch.save" : "torch.save zip"))
        #expect(original.tensors.count == 39)
        #expect(original.tensors["transformer.embeddings.weight"]?.shape == [99, 16])
        #expect(original.tensors["transformer.position_embeddings.weight"]?.shape == [512, 16])
        #expect(original.tensors["pred_layer.proj.bias"]?.shape == [99])
        #expect(original.tensors.keys.allSatisfy { $0.hasPrefix("transformer.") || $0.hasPrefix("pred_layer.") })
        let script = try Self.text("reference/config.json")
        #expect(original.configJSON == String(script.dropLast(3)) + ",\n  \"model_type\": \"xlm\"\n}\n")
        #expect(original.vocabJSON == (try Self.text("reference/vocab.json")))
        #expect(original.notes.count == 2)
        #expect(original.notes.contains { $0.hasPrefix("params['pred_probs'] is a tensor") })
        #expect(original.notes.contains { $0.hasPrefix("params['mask_scores'] holds a numpy.ndarray") })
    }

    /// An XLM-shaped legacy file: `model` {w: 2 floats}, then `params` and `dico_word2id` as `body` pushes them.
    private func checkpoint(_ body: (inout PickleBytes) -> Void) -> [UInt8] {
        var p = PickleBytes()
        p.op(.emptyDict)
        p.op(.mark)
        p.string("model")
        p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
        p.op(.mark); p.string("w"); p.tensorV2(key: "0", count: 2, size: [2], stride: [1], legacy: true); p.op(.setItems)
        body(&p)
        p.op(.setItems)
        p.op(.stop)
        return LegacyStreamBytes.stream(object: p.bytes, keys: ["0"], sections: LegacyStreamBytes.section(count: 2, PyTorchArchiveBytes.float32([1, 2])))
    }

    private func read(_ bytes: [UInt8]) throws -> XLMOriginalCheckpoint {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        return try XLMOriginalCheckpoint(path: try folder.write("xlm.pth", bytes))
    }

    private func params(_ p: inout PickleBytes) {
        p.string("params"); p.op(.emptyDict); p.op(.mark); p.string("n_words"); p.int(3); p.op(.setItems)
    }

    @Test func vocabularyRule() throws {
        let words: [(String, Int)] = [
            ("<s>", 0), ("<special9>", 13), ("x@@", 12), ("the", 14), ("play@@", 15), ("a@@@b", 16),
            ("caf\u{E9}", 17), ("cafe\u{301}", 18),  // canonically equivalent, two keys in Python
            ("ab@@", 19), ("ab", 5),  // both become "ab": the later id replaces the earlier in place
        ]
        let original = try read(checkpoint { p in
            params(&p)
            p.string("dico_word2id"); p.op(.emptyDict); p.op(.mark)
            for (word, id) in words { p.string(word); p.int(id) }
            p.op(.setItems)
        })
        #expect(original.vocabJSON == """
        {
          "<s>": 0,
          "<special9>": 13,
          "x": 12,
          "the</w>": 14,
          "play": 15,
          "a@b": 16,
          "caf\\u00e9</w>": 17,
          "cafe\\u0301</w>": 18,
          "ab": 5
        }

        """)
        #expect(original.tensors["transformer.w"]?.shape == [2])
        #expect(original.configJSON == "{\n  \"n_words\": 3,\n  \"model_type\": \"xlm\"\n}\n")
    }

    @Test func paramsJSONCannotHoldAreLeftOutWithANote() throws {
        let original = try read(checkpoint { p in
            p.string("params"); p.op(.emptyDict); p.op(.mark)
            p.string("para_dataset"); p.op(.emptyDict); p.op(.mark); p.string("de"); p.string("en"); p.op(.tuple2); p.op(.emptyDict); p.op(.setItems)
            p.string("blob"); p.op(.shortBinBytes, [1, 0x41])
            p.string("ok"); p.op(.newFalse)
            p.op(.setItems)
            p.string("dico_word2id"); p.op(.emptyDict)
        })
        #expect(original.configJSON == "{\n  \"ok\": false,\n  \"model_type\": \"xlm\"\n}\n")
        #expect(original.notes == [
            "params['para_dataset'] holds a dict key that is a tuple, which JSON cannot hold: left out of config.json (transformers' script fails on it)",
            "params['blob'] holds bytes, which JSON cannot hold: left out of config.json (transformers' script fails on it)",
        ])
    }

    @Test func checkpointsThatAreNotXLMs() throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        func expectFails(_ bytes: [UInt8], _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let path = try folder.write("bad-\(UUID().uuidString).pth", bytes)
            expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
                _ = try XLMOriginalCheckpoint(path: path)
            }
        }
        try expectFails(checkpoint { p in
            params(&p)
            p.string("dico_word2id"); p.op(.emptyDict); p.op(.mark); p.string("a"); p.string("1"); p.op(.setItems)
        }, ["'dico_word2id' maps a str to a str, expected str → int"])
        try expectFails(checkpoint { p in
            p.string("params"); p.op(.emptyDict); p.op(.mark); p.int(1); p.int(2); p.op(.setItems)
            p.string("dico_word2id"); p.op(.emptyDict)
        }, ["'params' has an int key"])
        try expectFails(checkpoint { p in p.string("params"); p.op(.emptyList); p.string("dico_word2id"); p.op(.emptyDict) },
                        ["the checkpoint's 'params' is a list, expected a dict (the training arguments)"])
        try expectFails(checkpoint { p in params(&p) }, ["has no 'dico_word2id' (the vocabulary); it holds 'model', 'params'"])
        var list = PickleBytes()
        list.op(.emptyList); list.op(.stop)
        try expectFails(LegacyStreamBytes.stream(object: list.bytes, keys: [], sections: []), ["holds a list, expected XLM's checkpoint dict"])
    }
}
