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
        if source.byteCount <= wholeLimit || !isFileBacked {
            let input = try source.materialize()
            var output = [UInt8](repeating: 0, count: input.count)
            input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    Self.transpose(src, dst, rows: rows, cols: cols, colStart: 0, colCount: cols, width: width)
                }
            }
            try output.withUnsafeBytes { try sink.write($0) }
            return
        }
        guard case .file(let region) = source.storage else { return }
        let file = try ReadOnlyFile(path: region.path)
        let band = max(1, bandLimit / (rows * width))
        var strip = [UInt8](repeating: 0, count: rows * min(band, cols) * width)
        var output = [UInt8](repeating: 0, count: strip.count)
        var c0 = 0
        while c0 < cols {
            let n = min(band, cols - c0)
            // strip holds source[r][c0..<c0+n] for every r, packed as [rows, n].
            try strip.withUnsafeMutableBytes { raw in
                for r in 0..<rows {
                    let dst = UnsafeMutableRawBufferPointer(rebasing: raw[(r * n * width)..<((r + 1) * n * width)])
                    try file.read(into: dst, at: region.offset + (r * cols + c0) * width)
                }
            }
            strip.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    Self.transpose(src, dst, rows: rows, cols: n, colStart: 0, colCount: n, width: width)
                }
            }
            try output.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(rows * n * width)])) }
            c0 += n
        }
    }

    private var isFileBacked: Bool { if case .file = source.storage { return true } else { return false } }

    /// dst[c][r] = src[r][c] over a `[rows, cols]` source, in 32×32 tiles for cache locality.
    static func transpose(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableRawBufferPointer,
                          rows: Int, cols: Int, colStart: Int, colCount: Int, width: Int) {
        switch width {
        case 4: tiled(src, dst, rows, cols, UInt32.self)
        case 2: tiled(src, dst, rows, cols, UInt16.self)
        case 8: tiled(src, dst, rows, cols, UInt64.self)
        default: tiled(src, dst, rows, cols, UInt8.self)
        }
    }

    private static func tiled<T>(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableRawBufferPointer,
                                 _ rows: Int, _ cols: Int, _: T.Type) {
        let s = src.bindMemory(to: T.self), d = dst.bindMemory(to: T.self)
        let tile = 32
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
