/// Streams a floating-point tensor converted to another floating-point type: the source streams
/// as it would anyway (file ranges in chunks, transposes in bands) into a sink that converts each
/// piece, so a half-precision checkpoint exports to float32, or a float32 one to float16, without
/// ever being held whole.
struct FloatConversion {
    let source: TensorData
    let target: DataType

    func stream(into sink: TensorByteSink) throws {
        let converter = ConvertingSink(from: source.dtype, to: target, downstream: sink)
        try source.stream(into: converter)
        try converter.finish()
    }

    /// The float types conversion reads from and writes to.
    static func isConvertible(_ type: DataType) -> Bool {
        type == .float16 || type == .bfloat16 || type == .float32 || type == .float64
    }

    /// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }

    /// binary32 → binary16, rounded to nearest even. Finite values beyond ±65504 saturate there
    /// instead of becoming infinities: graphs hold float32's lowest value as "masked", and a
    /// narrowed mask must stay finite so a fully masked row gives no NaN.
    /// Done on the bits with selects instead of branches, so the loop over a chunk vectorises
    /// (a library call per element made float16 exports CPU-bound).
    @inline(__always)
    static func floatToHalf(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7fff_ffff
        // Normal halves: rebias the exponent (−112 << 23) and round the 13 dropped bits to
        // nearest even by adding 0xfff plus the lowest kept bit before shifting them out.
        let normal = (magnitude &+ 0xc800_0fff &+ ((magnitude >> 13) & 1)) >> 13
        // Subnormal halves (below 2⁻¹⁴): adding 0.5 leaves the value's units of 2⁻²⁴ in the low
        // mantissa bits, rounded to nearest even by the float addition itself.
        let subnormal = (Float(bitPattern: magnitude) + 0.5).bitPattern &- 0x3f00_0000
        let special: UInt32 = magnitude > 0x7f80_0000 ? 0x7e00 : 0x7c00
        // From 65520 up a finite value rounds past the largest half: saturate.
        let finite: UInt32 = magnitude >= 0x477f_f000 ? 0x7bff : (magnitude < 0x3880_0000 ? subnormal : normal)
        return sign | UInt16(truncatingIfNeeded: magnitude >= 0x7f80_0000 ? special : finite)
    }

    /// binary32 → bfloat16, rounded to nearest even; finite values saturate as in `floatToHalf`.
    static func floatToBFloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
        let result = UInt16(truncatingIfNeeded: rounded >> 16)
        if x.isFinite && result & 0x7f80 == 0x7f80 { return (result & 0x8000) | 0x7f7f }
        return result
    }
}

/// Converts the elements written to it and passes them on; a piece that ends inside an element
/// keeps its tail for the next write.
final class ConvertingSink: TensorByteSink {
    let source: DataType
    let target: DataType
    let downstream: TensorByteSink
    private var pending: [UInt8] = []
    private var output: [UInt8] = []

    init(from source: DataType, to target: DataType, downstream: TensorByteSink) {
        self.source = source
        self.target = target
        self.downstream = downstream
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let width = source.byteSize
        if !pending.isEmpty {
            let need = width - pending.count
            pending += bytes.prefix(need)
            if pending.count < width { return }
            let head = pending
            pending = []
            try head.withUnsafeBytes { try convert($0) }
            try write(UnsafeRawBufferPointer(rebasing: bytes[min(need, bytes.count)...]))
            return
        }
        let whole = bytes.count / width * width
        if whole > 0 { try convert(UnsafeRawBufferPointer(rebasing: bytes[0..<whole])) }
        if whole < bytes.count { pending = Array(bytes[whole...]) }
    }

    func copy(from region: FileRegion) throws { try copyByReading(region) }

    /// A source that ended inside an element is an error (its byte count was checked up front).
    func finish() throws {
        guard pending.isEmpty else { throw ExportError("a \(source) tensor ended inside an element") }
    }

    private func element(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Float {
        switch source {
        case .float16: return FloatConversion.halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .bfloat16: return Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
        case .float64: return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
        default: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        }
    }

    private func convert(_ raw: UnsafeRawBufferPointer) throws {
        let count = raw.count / source.byteSize
        let outputBytes = count * target.byteSize
        if output.count < outputBytes { output = [UInt8](repeating: 0, count: outputBytes) }
        output.withUnsafeMutableBytes { out in
            if source == .float32 && target == .float16 {
                // The common narrowing, without a type switch per element.
                for i in 0..<count {
                    let x = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    out.storeBytes(of: FloatConversion.floatToHalf(x).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
                return
            }
            switch target {
            case .float16:
                for i in 0..<count { out.storeBytes(of: FloatConversion.floatToHalf(element(raw, i)).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case .bfloat16:
                for i in 0..<count { out.storeBytes(of: FloatConversion.floatToBFloat16(element(raw, i)).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            default:
                for i in 0..<count { out.storeBytes(of: element(raw, i).bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
        }
        try output.withUnsafeBytes { try downstream.write(UnsafeRawBufferPointer(rebasing: $0[0..<outputBytes])) }
    }
}
