import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// `.npy` files NumPy 2.4 wrote: every array must come back with the dtype, shape and C-order
/// bytes NumPy itself reads; broken and refused files fail with the file and the problem.
@Suite struct NumpyReaderTests {
    @Test func readsEveryDtypeAndHeaderVersion() throws {
        let expected = try TFFixtures.expected("npy")
        #expect(expected.count == 19)
        var tensors: [String: TensorData] = [:]
        for name in expected.keys {
            tensors[name] = try NumpyReader.read(npy: TFFixtures.path("npy/" + name))
        }
        try TFFixtures.expectMatches(tensors, "npy")
        #expect(tensors["f2.npy"]?.dtype == .float16)
        #expect(tensors["b1.npy"]?.dtype == .bool)
        #expect(tensors["u8.npy"]?.dtype == .uint64)
        #expect(tensors["scalar.npy"]?.shape == [])
        #expect(tensors["empty.npy"]?.shape == [0, 4])
    }

    @Test func plainArraysAreFileRegionsAfterTheHeader() throws {
        let path = TFFixtures.path("npy/f4.npy")
        let tensor = try NumpyReader.read(npy: path)
        guard case .file(let region) = tensor.storage else {
            Issue.record("expected a file-backed tensor, got \(tensor.storage)")
            return
        }
        // A (2, 3) '<f4' header is padded so the data starts at byte 128.
        #expect(region == FileRegion(path: path, offset: 128, length: 24))
    }

    @Test func fortranOrderTwoDimensionalIsATransposedView() throws {
        let tensor = try NumpyReader.read(npy: TFFixtures.path("npy/fortran2d.npy"))
        #expect(tensor.shape == [3, 4])
        guard case .transformed(let base, .transpose2D) = tensor.storage else {
            Issue.record("expected a transposed view, got \(tensor.storage)")
            return
        }
        #expect(base.shape == [4, 3])
        // A Fortran-order row vector is already in C order.
        if case .file = try NumpyReader.read(npy: TFFixtures.path("npy/fortran_row.npy")).storage {} else {
            Issue.record("a (1, 5) Fortran-order array needs no transpose")
        }
    }

    private func bad(_ name: String) -> String { TFFixtures.path("npy-bad/" + name) }

    @Test func hugeHeaderLength() {
        expectReaderError(startingWith: bad("huge-header.npy"), mentioning: ["header length 4026531840", "10000-byte limit", "than the file"]) {
            _ = try NumpyReader.read(npy: bad("huge-header.npy"))
        }
    }

    @Test func dataShorterThanTheShape() {
        expectReaderError(startingWith: bad("short-data.npy"),
                          mentioning: ["data is shorter than its shape", "float32[4, 4] needs 64 bytes", "only 56", "truncated"]) {
            _ = try NumpyReader.read(npy: bad("short-data.npy"))
        }
    }

    @Test func objectArraysAreRefused() {
        expectReaderError(startingWith: bad("object.npy"), mentioning: ["'|O'", "object array", "unpickling"]) {
            _ = try NumpyReader.read(npy: bad("object.npy"))
        }
    }

    @Test func bigEndianIsRefused() {
        expectReaderError(startingWith: bad("big-endian.npy"), mentioning: ["'>f4'", "big-endian"]) {
            _ = try NumpyReader.read(npy: bad("big-endian.npy"))
        }
    }

    @Test func fortranOrderBeyondTwoDimensionsIsRefused() {
        expectReaderError(startingWith: bad("fortran3d.npy"), mentioning: ["[2, 3, 4]", "Fortran order", "only 2-D"]) {
            _ = try NumpyReader.read(npy: bad("fortran3d.npy"))
        }
    }

    @Test func structuredDtypeIsRefused() {
        expectReaderError(startingWith: bad("structured.npy"), mentioning: ["structured", "not supported"]) {
            _ = try NumpyReader.read(npy: bad("structured.npy"))
        }
    }

    @Test func badMagic() {
        expectReaderError(startingWith: bad("bad-magic.npy"), mentioning: ["\\x93NUMPY", "NumPy array file"]) {
            _ = try NumpyReader.read(npy: bad("bad-magic.npy"))
        }
    }

    @Test func headerCutShort() {
        expectReaderError(startingWith: bad("truncated-header.npy"), mentioning: ["header length 118", "runs past the end", "(40 bytes)"]) {
            _ = try NumpyReader.read(npy: bad("truncated-header.npy"))
        }
    }

    // MARK: built byte by byte

    /// A version-1 file with `header` (padded to 64 bytes as NumPy does) and `data`.
    private func npy(_ header: String, data: [UInt8] = [], major: UInt8 = 1) -> [UInt8] {
        var text = Array(header.utf8)
        let prefix = major == 1 ? 10 : 12
        while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0a)
        let length: [UInt8] = major == 1
            ? [UInt8(text.count & 0xff), UInt8(text.count >> 8)]
            : BundleBytes.fixed32(UInt32(text.count))
        return NumpyFile.magic + [major, 0] + length + text + data
    }

    private func expectFails(_ bytes: [UInt8], mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        let path = try folder.write("a.npy", bytes)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try NumpyReader.read(npy: path)
        }
    }

    @Test func readsPython2LongsAndDoubleQuotes() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        let data = BundleBytes.float32([1, 2, 3, 4, 5, 6])
        let path = try folder.write("a.npy", npy(#"{"descr": "<f4", "fortran_order": False, "shape": (2L, 3L)}"#, data: data))
        let tensor = try NumpyReader.read(npy: path)
        #expect(tensor.shape == [2, 3])
        #expect(try tensor.materialize() == data)
    }

    @Test func unknownVersion() throws {
        try expectFails(NumpyFile.magic + [4, 0] + [UInt8](repeating: 0x20, count: 60), mentioning: ["version 4.0", "1.0, 2.0 or 3.0"])
    }

    @Test func tinyFile() throws {
        try expectFails(NumpyFile.magic + [1], mentioning: ["only 7 bytes", "10-byte preamble"])
    }

    @Test func headerThatIsNotALiteral() throws {
        try expectFails(npy("{'descr': __import__('os'), 'fortran_order': False, 'shape': ()}"), mentioning: ["not usable", "unexpected '_'"])
    }

    @Test func headerWithMissingOrExtraKeys() throws {
        try expectFails(npy("{'descr': '<f4', 'shape': (1,)}"), mentioning: ["expected exactly 'descr', 'fortran_order' and 'shape'"])
        try expectFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"), mentioning: ["expected exactly"])
    }

    @Test func negativeAndOversizedDimensions() throws {
        try expectFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2)}"), mentioning: ["dimension -1"])
        try expectFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"), mentioning: ["dimension 99999999999999999999"])
        try expectFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), mentioning: ["64-bit"])
    }

    @Test func unsupportedDescrs() throws {
        try expectFails(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}"), mentioning: ["'<c8' is not supported"])
        try expectFails(npy("{'descr': '<V2', 'fortran_order': False, 'shape': (1,)}"), mentioning: ["raw void"])
        try expectFails(npy("{'descr': '<U5', 'fortran_order': False, 'shape': (1,)}"), mentioning: ["'<U5' is not supported"])
    }

    @Test func deeplyNestedHeader() throws {
        let nested = String(repeating: "(", count: 100) + String(repeating: ")", count: 100)
        try expectFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': \(nested)}"), mentioning: ["nests deeper than 32"])
    }

    @Test func versionTwoHeaderBuiltByHand() throws {
        let folder = try TensorBundleTempFolder()
        defer { folder.remove() }
        let path = try folder.write("a.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", data: [7, 8, 9], major: 2))
        #expect(try NumpyReader.read(npy: path).materialize() == [7, 8, 9])
    }
}
