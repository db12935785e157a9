import CKernels

/// Streams one of the three MatMulNBits tensors of a float `[N, K]` source (`BlockQuantization`):
/// the source streams as it would anyway (file ranges mapped a window at a time, half precision
/// widened, transposes in bands) into a `QuantizingSink` that quantizes whole rows as they
/// arrive, on every core, so no weight is ever held whole.
///
/// The packed values are the big part and are computed with the scales and zero points as a
/// by-product; those are kept in `BlockParameterCache` for the two small tensors that the
/// lowering writes right after, so the source is read once, not three times. Whichever order
/// the parts are asked for, each is computed the same way and comes out the same.
struct BlockQuantizer {
    let source: TensorData
    let quantization: BlockQuantization
    let scaleType: DataType

    func stream(_ part: BlockQuantization.Part, into sink: TensorByteSink) throws {
        let cache = BlockParameterCache.shared
        let key = BlockParameterCache.Key(source: source, quantization: quantization, scaleType: scaleType)
        switch part {
        case .packed:
            cache.beginPacking(key)
            var parameters: BlockParameters?
            defer { cache.endPacking(key, leaving: parameters) }
            parameters = try quantize(packedInto: sink)
        case .scales, .zeroPoints:
            let bytes: [UInt8]
            if let cached = cache.take(part, of: key) {
                bytes = cached
            } else {
                let parameters = try quantize(packedInto: nil)
                cache.keep(parameters, for: key, taking: part)
                bytes = parameters[part]
            }
            try bytes.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// Streams the whole source through the kernel; the packed values go to `sink` (none when
    /// nil: only scales and zero points are wanted).
    private func quantize(packedInto sink: TensorByteSink?) throws -> BlockParameters {
        let quantizer = try QuantizingSink(rows: source.shape[0], columns: source.shape[1], quantization: quantization,
                                           scaleType: scaleType, packedSink: sink)
        if let (stored, region) = storedTransposed() {
            try ReadOnlyFile(path: region.path).withMappedBytes(at: region.offset, count: stored.byteCount) { mapped in
                guard let base = mapped.baseAddress else { return }
                try quantizer.quantizeColumns(of: base)
            }
        } else {
            try source.converted(to: .float32).stream(into: quantizer)
        }
        try quantizer.finish()
        return quantizer.parameters
    }

    /// Where the source is the transpose of a stored float32 matrix of at most
    /// `columnPathLimit` bytes (GPT-2's `Conv1D` weights): that matrix and its file range, read by
    /// the column kernel without transposing it first (a transpose cost a quarter of a GPT-2
    /// export's CPU time). Larger ones take the transpose's bands, which bound the memory mapped.
    private func storedTransposed() -> (TensorData, FileRegion)? {
        guard case .transformed(let stored, .transpose2D) = source.storage, stored.dtype == .float32,
              case .file(let region) = stored.storage, stored.byteCount <= Self.columnPathLimit else { return nil }
        return (stored, region)
    }

    static let columnPathLimit = 64 << 20
}

/// The scales and zero points of one quantized matrix, as stored.
struct BlockParameters {
    var scales: [UInt8]
    var zeroPoints: [UInt8]

    subscript(part: BlockQuantization.Part) -> [UInt8] { part == .zeroPoints ? zeroPoints : scales }
    var byteCount: Int { scales.count + zeroPoints.count }
}

/// Receives a float32 `[rows, columns]` matrix in order, in pieces of any size, and runs the C
/// kernel on whole rows: straight from the piece when it holds them, through a one-row buffer
/// for a row split between pieces. Rows are shared between the cores; each row's result depends
/// on that row alone, so neither the pieces nor the thread count change a byte.
///
/// A half-precision source is widened by `ConvertingSink` straight into memory this sink lends
/// (`fillNext`), from buffers kept for the whole export: a fresh tens-of-megabytes buffer per
/// weight cost more in page faults and zeroing than the quantization itself (bfloat16 LLaMA).
final class QuantizingSink: InPlaceByteSink {
    /// Rows per kernel call: about 8 MB of float32, so packed output staged for a sink without
    /// memory of its own stays small, with rows enough to share between the cores.
    static let bandBytes = 8 << 20
    /// The widened pieces of half-precision sources, reused from weight to weight.
    static let scratch = ScratchBuffers()

    let rows: Int
    let columns: Int
    let quantization: BlockQuantization
    let scaleType: DataType
    let packedSink: TensorByteSink?
    /// Scales and zero points of the rows quantized so far (two arrays: the kernel writes both at once).
    private var scales: [UInt8]
    private var zeroPoints: [UInt8]
    var parameters: BlockParameters { BlockParameters(scales: scales, zeroPoints: zeroPoints) }
    private let rowBytes: Int
    private let packedRowBytes: Int
    private let scaleRowBytes: Int
    private let zeroPointRowBytes: Int
    private let scaleCode: Int32
    private var partialRow: [UInt8] = []
    private var staging: [UInt8] = []
    private var rowsDone = 0

    init(rows: Int, columns: Int, quantization: BlockQuantization, scaleType: DataType, packedSink: TensorByteSink?) throws {
        guard BlockQuantization.isScaleType(scaleType) else { throw ExportError("quantization scales cannot be stored as \(scaleType)") }
        self.rows = rows
        self.columns = columns
        self.quantization = quantization
        self.scaleType = scaleType
        self.packedSink = packedSink
        let blocks = quantization.blocksPerRow(columns)
        rowBytes = columns * 4
        packedRowBytes = blocks * quantization.blobSize
        scaleRowBytes = blocks * scaleType.byteSize
        zeroPointRowBytes = quantization.symmetric ? 0 : quantization.zeroPointBytesPerRow(columns)
        scaleCode = scaleType == .float16 ? OE_SCALE_FLOAT16 : scaleType == .bfloat16 ? OE_SCALE_BFLOAT16 : OE_SCALE_FLOAT32
        scales = [UInt8](repeating: 0, count: rows * scaleRowBytes)
        zeroPoints = [UInt8](repeating: 0, count: rows * zeroPointRowBytes)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        if !partialRow.isEmpty {
            let taken = min(rowBytes - partialRow.count, rest.count)
            partialRow.append(contentsOf: rest.prefix(taken))
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            guard partialRow.count == rowBytes else { return }
            try partialRow.withUnsafeBytes { try quantize($0, rows: 1) }
            partialRow.removeAll(keepingCapacity: true)
        }
        let whole = rest.count / rowBytes
        let band = max(1, Self.bandBytes / max(rowBytes, 1))
        var row = 0
        while row < whole {
            let n = min(band, whole - row)
            try quantize(UnsafeRawBufferPointer(rebasing: rest[(row * rowBytes)..<((row + n) * rowBytes)]), rows: n)
            row += n
        }
        if whole * rowBytes < rest.count { partialRow.append(contentsOf: rest[(whole * rowBytes)...]) }
    }

    /// Stored matrices are quantized straight from the page cache (`copyByReading` maps them).
    func copy(from region: FileRegion) throws { try copyByReading(region) }

    func fillNext(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try Self.scratch.with(count, 0) { piece, _ in
            try body(piece)
            try write(UnsafeRawBufferPointer(piece))
        }
    }

    /// A source that gave fewer bytes than `rows × columns` floats is an error.
    func finish() throws {
        guard rowsDone == rows, partialRow.isEmpty else {
            throw ExportError("a float32 [\(rows), \(columns)] matrix to quantize ended after \(rowsDone * rowBytes + partialRow.count) of its \(rows * rowBytes) bytes")
        }
    }

    /// Quantizes the rows of the transpose of a row-major float32 `[columns, rows]` matrix at
    /// `stored` (GPT-2's `Conv1D` `[in, out]`, mapped from the page cache) without transposing it:
    /// the column kernel reads it row by row, in bands of output rows.
    func quantizeColumns(of stored: UnsafeRawPointer) throws {
        let band = max(64, Self.bandBytes / max(rowBytes, 1))
        while rowsDone < rows {
            let n = min(band, rows - rowsDone)
            try emit(rows: n) { share, packed, scales, zeroPoints in
                oe_quantize_block_columns(stored + 4 * (self.rowsDone + share.lowerBound), self.rows, self.columns, share.count,
                                          self.quantization.blockSize, Int32(self.quantization.bits),
                                          Int32(self.quantization.symmetric ? 1 : 0), self.scaleCode, packed, scales, zeroPoints)
            }
        }
    }

    private func quantize(_ source: UnsafeRawBufferPointer, rows count: Int) throws {
        guard let base = source.baseAddress else { return }
        try emit(rows: count) { share, packed, scales, zeroPoints in
            oe_quantize_blocks(base + share.lowerBound * self.rowBytes, share.count, self.columns, self.quantization.blockSize,
                               Int32(self.quantization.bits), Int32(self.quantization.symmetric ? 1 : 0), self.scaleCode,
                               packed, scales, zeroPoints)
        }
    }

    /// The next `count` output rows: `kernel` runs on shares of them, one per core, given where
    /// each share's packed values (nil when only parameters are wanted), scales and zero points go;
    /// the packed values then go to the sink, in order.
    private func emit(rows count: Int, _ kernel: (Range<Int>, UnsafeMutablePointer<UInt8>?, UnsafeMutableRawPointer?,
                                                 UnsafeMutablePointer<UInt8>?) -> Void) throws {
        guard rowsDone + count <= rows else {
            throw ExportError("a float32 [\(rows), \(columns)] matrix to quantize streamed more than its \(rows * rowBytes) bytes")
        }
        let packedBytes = count * packedRowBytes
        if let sink = packedSink as? InPlaceByteSink {
            try sink.fillNext(packedBytes) { run(rows: count, packed: $0.baseAddress, kernel) }
        } else if let sink = packedSink {
            if staging.count < packedBytes { staging = [UInt8](repeating: 0, count: packedBytes) }
            staging.withUnsafeMutableBytes { run(rows: count, packed: $0.baseAddress, kernel) }
            try staging.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<packedBytes])) }
        } else {
            run(rows: count, packed: nil, kernel)
        }
        rowsDone += count
    }

    private func run(rows count: Int, packed: UnsafeMutableRawPointer?,
                     _ kernel: (Range<Int>, UnsafeMutablePointer<UInt8>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?) -> Void) {
        let first = rowsDone
        let (packedRowBytes, scaleRowBytes, zeroPointRowBytes) = (packedRowBytes, scaleRowBytes, zeroPointRowBytes)
        scales.withUnsafeMutableBytes { scales in
            zeroPoints.withUnsafeMutableBytes { zeroPoints in
                CoreShares.run(count, worthSplitting: count * columns >= 1 << 16) { share in
                    let row = first + share.lowerBound
                    kernel(share, packed.map { ($0 + share.lowerBound * packedRowBytes).assumingMemoryBound(to: UInt8.self) },
                           scales.baseAddress.map { $0 + row * scaleRowBytes },
                           zeroPoints.baseAddress.map { ($0 + row * zeroPointRowBytes).assumingMemoryBound(to: UInt8.self) })
                }
            }
        }
    }
}
