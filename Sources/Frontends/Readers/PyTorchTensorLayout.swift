/// How a tensor's elements lie in its storage, from its size and stride.
///
/// The exporter streams a tensor as one byte range, so the readable layouts are a row-major block
/// (strides of size-1 dimensions do not matter: no step is ever taken along them) and, because
/// `nn.Linear` weights are sometimes saved as `w.t()`, the exact transpose of a row-major 2-D block,
/// which the IR can express as a transpose applied while streaming. Any other view (a slice with a
/// step, a permutation of three axes, an expanded dimension with stride 0) is refused by the caller.
enum PyTorchTensorLayout: Equatable {
    /// Elements `[offset, offset + count)` in row-major order.
    case rowMajor
    /// Size `[rows, cols]`, stride `[1, rows]`: the row-major block `[cols, rows]`, transposed.
    case transposed2D(rows: Int, cols: Int)

    /// The layout of `size`/`stride` (same length, non-negative), or nil for another view.
    /// The element count of `size` must not overflow (the caller has checked it).
    static func classify(size: [Int], stride: [Int]) -> PyTorchTensorLayout? {
        if size.contains(0) { return .rowMajor }  // nothing to read
        var expected = 1
        var rowMajor = true
        for (dimension, step) in zip(size, stride).reversed() {
            if dimension != 1, step != expected { rowMajor = false; break }
            expected *= dimension
        }
        if rowMajor { return .rowMajor }
        if size.count == 2, stride == [1, size[0]] { return .transposed2D(rows: size[0], cols: size[1]) }
        return nil
    }
}
