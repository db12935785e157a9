import CKernels

/// Receives a float `[rows, columns]` matrix in order (float32, or float16 / bfloat16 that the
/// kernel widens as it reads), in pieces of any size, and runs the C
/// kernel on whole rows: straight from the piece when it holds them, through a one-row buffer
/// for a row split between pieces. Rows are shared between the cores; each row's result depends
/// on that row alone, so neither the pieces nor the thread count change a byte.
///
/// A float64 source is narrowed by `ConvertingSink` straight into memory this sink lends
/// (`fillNext`), from buffers kept for the whole export: a fresh tens-of-megabytes buffer per
/// weight cost more in page faults and zeroing than the quantization itself.
final class QuantizingSink: InPlaceByteSink {
    /// Rows per kernel call: about 8 MB of float32, so packed output staged for a sink without
    /// memory of its own stays small, with rows enough to share between the cores.
    static let bandBytes = 8 << 20
    /// Converted pieces of float64 sources, reused from weight to weight.
    static let scratch = ScratchBuffers()

    let rows: Int
    let columns: Int
    /// float32, float16 or bfloat16.
    let sourceType: DataType
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
    private let sourceCode: Int32
    private var partialRow: [UInt8] = []
    private var staging: [UInt8] = []
    private var rowsDone = 0

    init(rows: Int, columns: Int, sourceType: DataType = .float32, quantization: BlockQuantization, scaleType: DataType,
         packedSink: TensorByteSink?) throws {
        guard BlockQuantization.isKernelType(scaleType) else { throw ExportError("quantization scales cannot be stored as \(scaleType)") }
        guard BlockQuantization.isKernelType(sourceType) else { throw ExportError("the quantization kernel reads float32, float16 or bfloat16, not \(sourceType)") }
        self.rows = rows
        self.columns = columns
        self.sourceType = sourceType
        self.quantization = quantization
        self.scaleType = scaleType
        self.packedSink = packedSink
        let blocks = quantization.blocksPerRow(columns)
        rowBytes = columns * sourceType.byteSize
        packedRowBytes = blocks * quantization.blobSize
        scaleRowBytes = blocks * scaleType.byteSize
        zeroPointRowBytes = quantization.symmetric ? 0 : quantization.zeroPointBytesPerRow(columns)
        scaleCode = Self.code(scaleType)
        sourceCode = Self.code(sourceType)
        scales = [UInt8](repeating: 0, count: rows * scaleRowBytes)
        zeroPoints = [UInt8](repeating: 0, count: rows * zeroPointRowBytes)
    }

    /// The kernels' code for a float type.
    static func code(_ type: DataType) -> Int32 {
        type == .float16 ? OE_TYPE_FLOAT16 : type == .bfloat16 ? OE_TYPE_BFLOAT16 : OE_TYPE_FLOAT32
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
            throw ExportError("a \(sourceType) [\(rows), \(columns)] matrix to quantize ended after \(rowsDone * rowBytes + partialRow.count) of its \(rows * rowBytes) bytes")
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
            oe_quantize_blocks(base + share.lowerBound * self.rowBytes, self.sourceCode, share.count, self.columns,
                               self.quantization.blockSize,
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
            throw ExportError("a \(sourceType) [\(rows), \(columns)] matrix to quantize streamed more than its \(rows * rowBytes) bytes")
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
