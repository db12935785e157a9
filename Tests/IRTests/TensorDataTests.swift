import Foundation
import Testing
@testable import ONNXExportIR

@Suite struct TensorDataTests {
    func tempFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "tensordata-\(UUID().uuidString).bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    @Test func transposeStreamsInOutputOrder() throws {
        let rows = 5, cols = 7
        let values = (0..<(rows * cols)).map { Float($0) }
        let raw = TensorData.float32(values, shape: [rows, cols]).inlineBytes ?? []
        let path = try tempFile([0, 0, 0, 0] + raw)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try TensorData.file(FileRegion(path: path, offset: 4, length: raw.count), dtype: .float32, shape: [rows, cols])
        let expected = (0..<cols).flatMap { c in (0..<rows).map { r in Float(r * cols + c) } }
        #expect(floats(try t.transposed().materialize()) == expected)

        // The banded path that large matrices take, forced with tiny limits.
        var streamer = TransposeStreamer(source: t)
        streamer.wholeLimit = 0
        streamer.bandLimit = rows * 4 * 2
        let sink = ByteCollector()
        try streamer.stream(into: sink)
        #expect(floats(sink.bytes) == expected)
    }

    /// A reshaped view streams the same bytes; narrowing a widened view back to its stored type
    /// (a float16 checkpoint exported as float16) keeps the new shape.
    @Test func reshapedViewsKeepTheirShapeThroughConversions() throws {
        let half = try TensorData.float32((0..<12).map(Float.init), shape: [2, 3, 2]).converted(to: .float16)
        let view = try half.asFloat32().reshaped([2, 6])
        #expect(view.shape == [2, 6] && view.dtype == .float32)
        #expect(floats(try view.materialize()) == (0..<12).map(Float.init))
        let narrowed = try view.converted(to: .float16)
        #expect(narrowed.shape == [2, 6] && narrowed.dtype == .float16)
        #expect(try narrowed.materialize() == (try half.materialize()))
        #expect(throws: ExportError.self) { try view.reshaped([5, 2]) }
    }

    @Test func rowSlicesReadOnlyTheirRows() throws {
        let values = (0..<12).map { Float($0) }
        let raw = TensorData.float32(values).inlineBytes ?? []
        let path = try tempFile(raw)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try TensorData.file(FileRegion(path: path, offset: 0, length: raw.count), dtype: .float32, shape: [4, 3])
        #expect(floats(try t.rows(1, 2).materialize()) == [3, 4, 5, 6, 7, 8])
        #expect(throws: ExportError.self) { try t.rows(3, 2) }
    }

    @Test func fileRangeMustMatchTheTensorSize() {
        #expect(throws: ExportError.self) {
            try TensorData.file(FileRegion(path: "/x", offset: 0, length: 10), dtype: .float32, shape: [3])
        }
    }

    @Test func shortFilesAreReportedWithThePath() throws {
        let path = try tempFile([1, 2, 3])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try TensorData.file(FileRegion(path: path, offset: 0, length: 8), dtype: .float32, shape: [2])
        let error = #expect(throws: ExportError.self) { try t.materialize() }
        #expect(error?.message.contains(path) == true)
    }
}

@Suite struct FloatConversionTests {
    @Test func halfPrecisionWidensExactly() throws {
        let halves: [UInt16] = [0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x0000, 0x8000]
        let expected: [Float] = [1, -2, 5.9604645e-08, 65504, .infinity, 0, -0.0]
        let data = TensorData.scalars(halves, dtype: .float16, shape: [halves.count])
        let bytes = try data.asFloat32().materialize()
        let values = stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
        #expect(values == expected)
        #expect(try data.asFloat32().dtype == .float32)
    }

    @Test func bfloat16KeepsTheHighBits() throws {
        let data = TensorData.scalars([UInt16(0x3f80), 0xc040], dtype: .bfloat16, shape: [2])
        let bytes = try data.asFloat32().materialize()
        #expect(bytes == (TensorData.float32([1, -3]).inlineBytes ?? []))
    }
}

@Suite struct ConvertedTransposeTests {
    @Test func halfPrecisionTransposesInItsOwnTypeThenWidens() throws {
        // 1 2 3 4 5 6
        try withHalfFile([0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600], shape: [2, 3]) { stored in
            let t = try stored.asFloat32().transposed()
            guard case .transformed(let inner, .convert) = t.storage else { Issue.record("conversion should be outermost"); return }
            #expect(inner.dtype == .float16)
            #expect(try t.materialize() == (TensorData.float32([1, 4, 2, 5, 3, 6]).inlineBytes ?? []))
        }
    }
}

@Suite struct NarrowingConversionTests {
    private func halves(_ t: TensorData) throws -> [UInt16] {
        let bytes = try t.materialize()
        return stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
    }

    @Test func float32NarrowsToHalfRoundingToNearestEven() throws {
        // 1 + 2⁻¹¹ is halfway between 1 and the next half (1 + 2⁻¹⁰): ties go to the even 1.
        let values: [Float] = [1, -2, 1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 65504, 6e-8, 0, .infinity]
        let narrowed = try TensorData.float32(values).converted(to: .float16)
        #expect(narrowed.dtype == .float16)
        #expect(try halves(narrowed) == [0x3c00, 0xc000, 0x3c00, 0x3c01, 0x7bff, 0x0001, 0x0000, 0x7c00])
    }

    @Test func finiteValuesBeyondTheRangeSaturate() throws {
        let values: [Float] = [-.greatestFiniteMagnitude, 70000, -.infinity]
        #expect(try halves(TensorData.float32(values).converted(to: .float16)) == [0xfbff, 0x7bff, 0xfc00])
        #expect(try halves(TensorData.float32(values).converted(to: .bfloat16)) == [0xff7f, 0x4789, 0xff80])
    }

    @Test func float32NarrowsToBFloat16RoundingToNearestEven() throws {
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷ in bfloat16: ties go to even.
        let values: [Float] = [1, -3, 1 + 0x1p-8, 1 + 0x1p-8 + 0x1p-20, .nan]
        let h = try halves(TensorData.float32(values).converted(to: .bfloat16))
        #expect(Array(h.prefix(4)) == [0x3f80, 0xc040, 0x3f80, 0x3f81])
        #expect(h[4] & 0x7f80 == 0x7f80 && h[4] & 0x7f != 0)
    }

    @Test func convertingBackToTheStoredTypeUndoesTheConversion() throws {
        try withHalfFile([0x3c00, 0x4000, 0x4200, 0x4400], shape: [2, 2]) { stored in
            let roundTrip = try stored.asFloat32().transposed().converted(to: .float16)
            guard case .transformed(let inner, .transpose2D) = roundTrip.storage, case .file = inner.storage else {
                Issue.record("expected a plain transpose of the file, got \(roundTrip.storage)"); return
            }
            #expect(try halves(roundTrip) == [0x3c00, 0x4200, 0x4000, 0x4400])
            let bf = try stored.asFloat32().converted(to: .bfloat16)
            guard case .transformed(let source, .convert) = bf.storage else { Issue.record("expected one conversion"); return }
            #expect(source.dtype == .float16)
            #expect(try halves(bf) == [0x3f80, 0x4000, 0x4040, 0x4080])
        }
    }

    @Test func slicesOfConvertedTensorsStayFileRanges() throws {
        try withHalfFile([0x3c00, 0x4000, 0x4200, 0x4400], shape: [2, 2]) { stored in
            let row = try stored.asFloat32().rows(1, 1)
            guard case .transformed(let inner, .convert) = row.storage, case .transformed(_, .sliceRows) = inner.storage else {
                Issue.record("slice should sit under the conversion"); return
            }
            #expect(try row.materialize() == (TensorData.float32([3, 4]).inlineBytes ?? []))
        }
    }
}

/// Runs `body` on a float16 tensor of `shape` backed by a temporary file holding `halves`.
func withHalfFile(_ halves: [UInt16], shape: [Int], _ body: (TensorData) throws -> Void) throws {
    let path = NSTemporaryDirectory() + "half-\(UUID().uuidString).bin"
    let bytes = TensorData.scalars(halves, dtype: .float16, shape: [halves.count]).inlineBytes ?? []
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    try body(try TensorData.file(FileRegion(path: path, offset: 0, length: bytes.count), dtype: .float16, shape: shape))
}

@Suite struct HalfRoundingTests {
    /// Every float32 bit pattern on a coarse stride (plus the boundaries) against Swift's own
    /// Float16 conversion, which rounds to nearest even; beyond the half range we saturate.
    @Test func agreesWithFloat16ConversionEverywhere() {
        var patterns: [UInt32] = [0x3880_0000, 0x387f_ffff, 0x477f_efff, 0x477f_f000, 0x477f_e000, 0x3300_0000, 0x3300_0001, 0x337f_ffff]
        patterns += stride(from: UInt32(0), to: 0x7f80_0000, by: 4099).map { $0 }
        for magnitude in patterns {
            for sign: UInt32 in [0, 0x8000_0000] {
                let x = Float(bitPattern: magnitude | sign)
                let expected = abs(x) >= 65520 ? (x < 0 ? UInt16(0xfbff) : 0x7bff) : Float16(x).bitPattern
                #expect(FloatConversion.floatToHalf(x) == expected, "\(x) (0x\(String(magnitude | sign, radix: 16)))")
            }
        }
    }
}
