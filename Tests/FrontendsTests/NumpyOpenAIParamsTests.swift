import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// OpenAI finetune-transformer-lm's `params_shapes.json` + `params_N.npy`: each parameter must
/// equal the slice `np.split(np.concatenate(parts), offsets)` gives, including the one that
/// spans the two files.
@Suite struct NumpyOpenAIParamsTests {
    @Test func splitsTheConcatenatedPartsByShape() throws {
        let folder = TFFixtures.path("openai")
        let tensors = try NumpyReader.openAIParams(folder: folder)
        try TFFixtures.expectMatches(tensors, "openai")
        #expect(tensors["params.0"]?.shape == [3, 4])
        #expect(tensors["params.4"]?.shape == [])

        // params.2 covers elements 17..<29: 3 from params_0.npy, 9 from params_1.npy.
        let spanning = try #require(tensors["params.2"])
        guard case .produced(let produced) = spanning.storage, let joined = produced.producer as? NumpyJoinedRegions else {
            Issue.record("expected a joined source, got \(spanning.storage)")
            return
        }
        #expect(joined.regions.map(\.path) == [folder + "/params_0.npy", folder + "/params_1.npy"])
        #expect(joined.regions.map(\.length) == [12, 36])
        if case .file = tensors["params.1"]?.storage {} else { Issue.record("params.1 lies in one file") }
    }

    @Test func opensAndRecognizesTheFolder() throws {
        let folder = TFFixtures.path("openai")
        #expect(NumpyReader.recognizes(folder: folder))
        #expect(!NumpyReader.recognizes(folder: TFFixtures.path("bert")))
        let store = try NumpyReader.open(folder: folder)
        #expect(store.origin == folder + "/params_shapes.json")
        #expect(store.tensors.count == 5)
    }

    @Test func shapesThatDoNotAddUp() {
        let folder = TFFixtures.path("openai-mismatch")
        expectReaderError(startingWith: folder + "/params_shapes.json",
                          mentioning: ["5 shapes hold 38 elements", "hold 37", "do not belong together"]) {
            _ = try NumpyReader.openAIParams(folder: folder)
        }
    }

    @Test func missingPart() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        try folder.copy("openai/params_shapes.json", as: "params_shapes.json")
        try folder.copy("openai/params_0.npy", as: "params_0.npy")
        try folder.copy("openai/params_1.npy", as: "params_2.npy")
        expectReaderError(startingWith: folder.path, mentioning: ["params_1.npy is missing", "found params_2.npy"]) {
            _ = try NumpyReader.openAIParams(folder: folder.path)
        }
    }

    @Test func partThatIsNotOneDimensionalFloat32() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        try folder.write("params_shapes.json", Array("[[2, 3]]".utf8))
        try folder.copy("npy/i4.npy", as: "params_0.npy")
        expectReaderError(startingWith: folder.file("params_0.npy"), mentioning: ["int32[3]", "1-D float32"]) {
            _ = try NumpyReader.openAIParams(folder: folder.path)
        }
    }

    @Test func shapesFileThatIsNotAListOfShapes() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        try folder.copy("openai/params_0.npy", as: "params_0.npy")
        for (text, fragment) in [("{}", "non-empty JSON array"), ("[[2, -1]]", "dimension -1"), ("[3]", "shape 0 is 3"), ("[[1", "not valid JSON")] {
            try folder.write("params_shapes.json", Array(text.utf8))
            expectReaderError(startingWith: folder.file("params_shapes.json"), mentioning: [fragment]) {
                _ = try NumpyReader.openAIParams(folder: folder.path)
            }
        }
    }

    @Test func folderWithoutParams() {
        let folder = TFFixtures.path("npy")
        expectReaderError(startingWith: folder, mentioning: ["no NumPy weights", "params_shapes.json"]) {
            _ = try NumpyReader.open(folder: folder)
        }
    }
}
