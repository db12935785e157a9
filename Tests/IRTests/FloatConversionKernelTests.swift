import Foundation
import Testing
@testable import ONNXExportIR

/// The C conversion kernels against independent references, element by element and in bulk
/// (the bulk path splits across threads and runs vector code with scalar tails).
@Suite struct FloatConversionKernelTests {
    @Test func everyHalfWidensExactly() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = FloatConversion.halfToFloat(bits)
            if expected.isNaN {
                #expect(got.isNaN && got.sign == expected.sign, "0x\(String(bits, radix: 16))")
            } else {
                #expect(got.bitPattern == expected.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }

    /// bfloat16 reference: the two neighbouring bfloat16 values compared in Double, ties to the
    /// even one; finite values past the largest bfloat16 saturate.
    private static func referenceBFloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x0040 }
        if x.isInfinite { return UInt16(bits >> 16) }
        let low = bits & 0xffff_0000
        let lowValue = Double(Float(bitPattern: low)), highValue = Double(Float(bitPattern: low + 0x1_0000))
        let d = Double(x)
        let lowDistance = abs(d - lowValue), highDistance = abs(highValue - d)
        let useHigh = highDistance < lowDistance || (highDistance == lowDistance && (low >> 16) & 1 == 1)
        var result = UInt16((useHigh ? low + 0x1_0000 : low) >> 16)
        if result & 0x7f80 == 0x7f80 { result = (result & 0x8000) | 0x7f7f }
        return result
    }

    @Test func bfloat16RoundsToNearestEvenAndSaturates() {
        var patterns: [UInt32] = [0x7f7f_7fff, 0x7f7f_8000, 0x7f7f_ffff, 0x7f80_0000, 0x7fc0_0001, 0x0000_8000, 0x0001_8000, 0x3f80_8000, 0x3f81_8000]
        patterns += stride(from: UInt32(0), to: 0x7fff_ffff, by: 65_537).map { $0 }
        for magnitude in patterns {
            for sign: UInt32 in [0, 0x8000_0000] {
                let x = Float(bitPattern: magnitude | sign)
                #expect(FloatConversion.floatToBFloat16(x) == Self.referenceBFloat16(x), "0x\(String(magnitude | sign, radix: 16))")
            }
        }
    }

    /// Random bit patterns (every class of value) converted in one call of a few hundred thousand
    /// elements, at an odd offset so no load is aligned, against one-element conversions.
    @Test(arguments: [(DataType.float32, DataType.float16), (.float32, .bfloat16), (.float16, .float32),
                      (.bfloat16, .float32), (.float64, .float16), (.bfloat16, .float16), (.float16, .bfloat16)])
    func bulkMatchesOneByOne(_ source: DataType, _ target: DataType) {
        let count = (1 << 18) + 13
        var generator = SystemRandomNumberGenerator()
        var input = [UInt8](repeating: 0, count: count * source.byteSize + 1)
        for i in input.indices { input[i] = UInt8.random(in: 0...255, using: &generator) }
        var bulk = [UInt8](repeating: 0, count: count * target.byteSize)
        input.withUnsafeBytes { src in
            bulk.withUnsafeMutableBytes { FloatConversion.convert(src.baseAddress! + 1, from: source, $0.baseAddress!, to: target, count: count) }
        }
        var single = [UInt8](repeating: 0, count: target.byteSize)
        var mismatches = 0
        input.withUnsafeBytes { src in
            for i in stride(from: 0, to: count, by: 97) {
                single.withUnsafeMutableBytes { FloatConversion.convert(src.baseAddress! + 1 + i * source.byteSize, from: source, $0.baseAddress!, to: target, count: 1) }
                if Array(bulk[(i * target.byteSize)..<((i + 1) * target.byteSize)]) != single { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func float64NarrowsThroughFloat32() {
        let values: [Double] = [1.0, -2.5, 65504, 1e10, -1e10, .infinity, 5.960464477539063e-8]
        var bytes = [UInt8]()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        var out = [UInt16](repeating: 0, count: values.count)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBytes { FloatConversion.convert(src.baseAddress!, from: .float64, $0.baseAddress!, to: .float16, count: values.count) } }
        #expect(out == [0x3c00, 0xc100, 0x7bff, 0x7bff, 0xfbff, 0x7c00, 0x0001])
    }
}
