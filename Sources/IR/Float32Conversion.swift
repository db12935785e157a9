/// Streams a float16 / bfloat16 / float64 tensor as float32: the source streams as it would
/// anyway (file ranges in chunks, transposes in bands) into a sink that converts each piece, so a
/// half-precision checkpoint exports to float32 without ever being held whole.
struct Float32Conversion {
    let source: TensorData

    func stream(into sink: TensorByteSink) throws {
        let converter = ConvertingSink(from: source.dtype, downstream: sink)
        try source.stream(into: converter)
        try converter.finish()
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
}

/// Converts the elements written to it to float32 and passes them on; a piece that ends inside
/// an element keeps its tail for the next write.
final class ConvertingSink: TensorByteSink {
    let dtype: DataType
    let downstream: TensorByteSink
    private var pending: [UInt8] = []
    private var output: [Float] = []

    init(from dtype: DataType, downstream: TensorByteSink) {
        self.dtype = dtype
        self.downstream = downstream
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let width = dtype.byteSize
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
        guard pending.isEmpty else { throw ExportError("a \(dtype) tensor ended inside an element") }
    }

    private func convert(_ raw: UnsafeRawBufferPointer) throws {
        let count = raw.count / dtype.byteSize
        if output.count < count { output = [Float](repeating: 0, count: count) }
        switch dtype {
        case .float16:
            for i in 0..<count { output[i] = Float32Conversion.halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
        case .bfloat16:
            for i in 0..<count { output[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
        default:
            for i in 0..<count { output[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
        }
        try output.withUnsafeBytes { try downstream.write(UnsafeRawBufferPointer(rebasing: $0[0..<(count * 4)])) }
    }
}
