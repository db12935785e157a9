/// Streams a float16 / bfloat16 / float64 tensor as float32, a bounded chunk at a time, so a
/// half-precision checkpoint exports to float32 without ever being held whole.
struct Float32Conversion {
    let source: TensorData
    var chunkElements = 1 << 20

    func stream(into sink: TensorByteSink) throws {
        let width = source.dtype.byteSize
        let total = source.elementCount
        if case .file(let region) = source.storage {
            let file = try ReadOnlyFile(path: region.path)
            var input = [UInt8](repeating: 0, count: min(total, chunkElements) * width)
            var done = 0
            while done < total {
                let n = min(chunkElements, total - done)
                try input.withUnsafeMutableBytes { raw in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<(n * width)]), at: region.offset + done * width)
                }
                try emit(input[0..<(n * width)], into: sink)
                done += n
            }
        } else {
            try emit(try source.materialize()[...], into: sink)
        }
    }

    private func emit(_ bytes: ArraySlice<UInt8>, into sink: TensorByteSink) throws {
        var out = [Float](repeating: 0, count: bytes.count / source.dtype.byteSize)
        bytes.withUnsafeBytes { raw in
            switch source.dtype {
            case .float16:
                for i in out.indices { out[i] = Self.halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .bfloat16:
                for i in out.indices { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
            default:
                for i in out.indices { out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
            }
        }
        try out.withUnsafeBytes { try sink.write($0) }
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
