import CKernels

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

    /// A C conversion kernel: (source elements, destination, element count).
    typealias Kernel = (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int) -> Void

    /// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        Float(bitPattern: one(h, as: UInt32.self, oe_float16_to_float32))
    }

    /// binary32 → binary16, rounded to nearest even. Finite values beyond ±65504 saturate there
    /// instead of becoming infinities: graphs hold float32's lowest value as "masked", and a
    /// narrowed mask must stay finite so a fully masked row gives no NaN.
    static func floatToHalf(_ x: Float) -> UInt16 { one(x.bitPattern, as: UInt16.self, oe_float32_to_float16) }

    /// binary32 → bfloat16, rounded to nearest even; finite values saturate as in `floatToHalf`.
    static func floatToBFloat16(_ x: Float) -> UInt16 { one(x.bitPattern, as: UInt16.self, oe_float32_to_bfloat16) }

    /// One element through the same C kernel the bulk conversion uses, so a scalar constant and a
    /// streamed weight can never round differently.
    private static func one<In, Out: FixedWidthInteger>(_ value: In, as: Out.Type, _ kernel: Kernel) -> Out {
        var input = value
        var output: Out = 0
        withUnsafeBytes(of: &input) { src in withUnsafeMutableBytes(of: &output) { kernel(src.baseAddress, $0.baseAddress, 1) } }
        return Out(littleEndian: output)
    }

    /// The C kernel for a direct conversion, if there is one (float64 and float16 ↔ bfloat16
    /// go through float32).
    static func kernel(from source: DataType, to target: DataType) -> Kernel? {
        switch (source, target) {
        case (.float32, .float16): return oe_float32_to_float16
        case (.float32, .bfloat16): return oe_float32_to_bfloat16
        case (.float16, .float32): return oe_float16_to_float32
        case (.bfloat16, .float32): return oe_bfloat16_to_float32
        default: return nil
        }
    }

    /// Converts `count` elements from `src` to `dst`, on every core when there are enough of
    /// them to pay for the threads (a chunk of a streamed weight is megabytes).
    static func convert(_ src: UnsafeRawPointer, from source: DataType, _ dst: UnsafeMutableRawPointer, to target: DataType, count: Int) {
        if let kernel = kernel(from: source, to: target) {
            CoreShares.run(count, worthSplitting: count >= 1 << 18) { share in
                kernel(src + share.lowerBound * source.byteSize, dst + share.lowerBound * target.byteSize, share.count)
            }
            return
        }
        // Two steps through float32, in slices so the staging buffer stays small.
        let slice = 1 << 16
        var staged = [Float](repeating: 0, count: min(slice, count))
        staged.withUnsafeMutableBytes { stage in
            var start = 0
            while start < count {
                let n = min(slice, count - start)
                let from = src + start * source.byteSize
                if source == .float64 {
                    for i in 0..<n {
                        let x = Float(Double(bitPattern: UInt64(littleEndian: from.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                        stage.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    }
                } else if let widen = kernel(from: source, to: .float32) {
                    widen(from, stage.baseAddress, n)
                } else {
                    stage.baseAddress!.copyMemory(from: from, byteCount: 4 * n)
                }
                let to = dst + start * target.byteSize
                if let narrow = kernel(from: .float32, to: target) { narrow(stage.baseAddress, to, n) }
                else { to.copyMemory(from: stage.baseAddress!, byteCount: 4 * n) }
                start += n
            }
        }
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

    /// A stored tensor is converted straight from the page cache (`copyByReading` maps it).
    func copy(from region: FileRegion) throws { try copyByReading(region) }

    /// A source that ended inside an element is an error (its byte count was checked up front).
    func finish() throws {
        guard pending.isEmpty else { throw ExportError("a \(source) tensor ended inside an element") }
    }

    private func convert(_ raw: UnsafeRawBufferPointer) throws {
        let count = raw.count / source.byteSize
        let outputBytes = count * target.byteSize
        guard count > 0, let from = raw.baseAddress else { return }
        if let direct = downstream as? InPlaceByteSink {
            try direct.fillNext(outputBytes) { FloatConversion.convert(from, from: source, $0.baseAddress!, to: target, count: count) }
            return
        }
        if output.count < outputBytes { output = [UInt8](repeating: 0, count: outputBytes) }
        output.withUnsafeMutableBytes { FloatConversion.convert(from, from: source, $0.baseAddress!, to: target, count: count) }
        try output.withUnsafeBytes { try downstream.write(UnsafeRawBufferPointer(rebasing: $0[0..<outputBytes])) }
    }
}
