import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// `.npz` archives as `np.savez` (stored) and `np.savez_compressed` (deflated) write them.
@Suite struct NumpyArchiveTests {
    @Test(arguments: ["stored.npz", "deflated.npz"])
    func everyMemberMatchesWhatNumpyReads(file: String) throws {
        let tensors = try NumpyReader.readNPZ(TFFixtures.path("npz/" + file))
        try TFFixtures.expectMatches(tensors, "npz")
    }

    @Test func storedMembersAreFileRangesAndDeflatedOnesInflateWhileStreaming() throws {
        let stored = try NumpyReader.readNPZ(TFFixtures.path("npz/stored.npz"))
        let deflated = try NumpyReader.readNPZ(TFFixtures.path("npz/deflated.npz"))
        let name = try #require(stored.keys.sorted().first { stored[$0]?.elementCount ?? 0 > 1 && stored[$0].map { if case .file = $0.storage { return true } else { return false } } ?? false })
        guard case .file = try #require(stored[name]).storage else { Issue.record("stored member should be a file range"); return }
        if case .file = try #require(deflated[name]).storage { Issue.record("deflated member cannot be a plain file range") }
    }

    @Test func objectMembersAndBrokenStreamsAreRefused() throws {
        let object = TFFixtures.path("npz-bad/object-member.npz")
        expectReaderError(startingWith: object + " [bad.npy]", mentioning: ["object array"]) { _ = try NumpyReader.readNPZ(object) }
        let corrupt = TFFixtures.path("npz-bad/corrupt-deflate.npz")
        let error = #expect(throws: ExportError.self) {
            for t in try NumpyReader.readNPZ(corrupt).values { _ = try t.materialize() }
        }
        #expect(error?.message.contains(corrupt) == true)
    }
}
