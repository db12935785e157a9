import CKernels
/// Streams the transpose of a `[rows, cols]` tensor in output order with bounded memory.
///
/// Small tensors (up to `wholeLimit` bytes) are read at once and transposed in cache-sized tiles.
/// Larger ones are produced in bands of output rows: each band reads, for every source row, only
/// the columns it needs, so memory stays near `bandLimit` whatever the matrix size.
struct TransposeStreamer {
    let source: TensorData
    var wholeLimit = 64 << 20
    var bandLimit = 32 << 20

    func stream(into sink: TensorByteSink) throws {
        let rows = source.shape[0], cols = source.shape[1], width = source.dtype.byteSize
        if rows == 0 || cols == 0 { return }
        guard case .file(let region) = source.storage else {
            // Computed sources (a converted half-precision tensor) are materialised first.
            let input = try source.materialize()
            var output = [UInt8](repeating: 0, count: input.count)
            input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in Self.transpose(src, dst, rows: rows, cols: cols, width: width) }
            }
            try output.withUnsafeBytes { try sink.write($0) }
            return
        }
        let file = try ReadOnlyFile(path: region.path)
        if source.byteCount <= wholeLimit {
            // Source mapped from the page cache, output straight into the sink's memory when it
            // has some: the transpose is then the only pass over the bytes in user space.
            try file.withMappedBytes(at: region.offset, count: source.byteCount) { mapped in
                if let direct = sink as? InPlaceByteSink {
                    try direct.fillNext(source.byteCount) { Self.transpose(mapped, $0, rows: rows, cols: cols, width: width) }
                    return
                }
                try ScratchBuffers.shared.with(source.byteCount, 0) { output, _ in
                    Self.transpose(mapped, output, rows: rows, cols: cols, width: width)
                    try sink.write(UnsafeRawBufferPointer(output))
                }
            }
            return
        }
        let band = max(1, bandLimit / (rows * width))
        let stripBytes = rows * min(band, cols) * width
        try ScratchBuffers.shared.with(stripBytes, stripBytes) { strip, output in
            var c0 = 0
            while c0 < cols {
                let n = min(band, cols - c0)
                // strip holds source[r][c0..<c0+n] for every r, packed as [rows, n].
                for r in 0..<rows {
                    let dst = UnsafeMutableRawBufferPointer(rebasing: strip[(r * n * width)..<((r + 1) * n * width)])
                    try file.read(into: dst, at: region.offset + (r * cols + c0) * width)
                }
                let used = rows * n * width
                Self.transpose(UnsafeRawBufferPointer(rebasing: strip[0..<used]), UnsafeMutableRawBufferPointer(rebasing: output[0..<used]),
                               rows: rows, cols: n, width: width)
                try sink.write(UnsafeRawBufferPointer(rebasing: output[0..<used]))
                c0 += n
            }
        }
    }

    /// dst[c][r] = src[r][c] over a `[rows, cols]` source: float32 by the C kernel (SSE2 4×4
    /// squares in 64×64 blocks), other widths in 16×16 tiles so both sides stay in cache.
    static func transpose(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableRawBufferPointer,
                          rows: Int, cols: Int, width: Int) {
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        switch width {
        case 4: transpose32(s.assumingMemoryBound(to: UInt32.self), d.assumingMemoryBound(to: UInt32.self), rows: rows, cols: cols)
        case 2: tiled(s.assumingMemoryBound(to: UInt16.self), d.assumingMemoryBound(to: UInt16.self), rows, cols)
        case 8: tiled(s.assumingMemoryBound(to: UInt64.self), d.assumingMemoryBound(to: UInt64.self), rows, cols)
        default: tiled(s.assumingMemoryBound(to: UInt8.self), d.assumingMemoryBound(to: UInt8.self), rows, cols)
        }
    }

    /// Matrices of a megabyte or more are transposed in row bands on every core at once.
    private static func transpose32(_ s: UnsafePointer<UInt32>, _ d: UnsafeMutablePointer<UInt32>, rows: Int, cols: Int) {
        CoreShares.run(rows, worthSplitting: rows * cols >= 1 << 18, minimumShare: 64) { band in
            oe_transpose32(s + band.lowerBound * cols, d + band.lowerBound, band.count, cols, rows)
        }
    }

    @inline(__always)
    private static func tiled<T>(_ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) {
        let tile = 16
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + tile, rows)
            var c0 = 0
            while c0 < cols {
                let c1 = min(c0 + tile, cols)
                for r in r0..<r1 {
                    for c in c0..<c1 { d[c * rows + r] = s[r * cols + c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
