/// Block-wise weight quantization as `com.microsoft.MatMulNBits` stores its weight (`--quantize`).
///
/// Each row of a `[N, K]` float matrix (an `nn.Linear` weight as PyTorch stores it, `[out, in]`)
/// is cut along K into blocks of `blockSize`, the last padded with zeros, and each block gets a
/// scale and, unless `symmetric`, a zero point. The arithmetic is onnxruntime's own quantizer's
/// (`MlasQuantizeBlockwise`, which its `MatMulNBitsQuantizer` runs), in float32, round to nearest:
///
/// - asymmetric: `lo = min(block ∪ {0})`, `hi = max(block ∪ {0})`, `scale = (hi − lo) / (2^bits − 1)`,
///   `zero = round(−lo / scale)` clamped to `[0, 2^bits − 1]` (0 for an all-zero block);
/// - symmetric: `m` = the block's element of largest magnitude, sign kept, `scale = −m / 2^(bits−1)`,
///   `zero = 2^(bits−1)`, not stored (MatMulNBits' default);
/// - then `q = clamp(round(x · (1 / s) + zero), 0, 2^bits − 1)`, where `s` is the scale as stored
///   (rounded to the scales' type) and `round` goes half away from zero.
///
/// A weight then reads back as `(q − zero) · s`, within half a step `s / 2` of the source.
///
/// ```swift
/// let int4 = try BlockQuantization(bits: 4, blockSize: 32)
/// let (packed, scales, zeroPoints) = try int4.tensors(of: weight, scaleType: .float32)
/// ```
public struct BlockQuantization: Hashable, Sendable, CustomStringConvertible {
    /// The three tensors MatMulNBits reads for one weight.
    public enum Part: Hashable, Sendable {
        /// `uint8 [N, blocks, blockSize · bits / 8]`.
        case packed
        /// `[N · blocks]` in the activations' type.
        case scales
        /// `uint8 [N · ⌈blocks · bits / 8⌉]`; asymmetric only.
        case zeroPoints
    }

    public let bits: Int
    public let blockSize: Int
    public let symmetric: Bool

    /// Refuses what MatMulNBits cannot hold: 4 or 8 bits, blocks a power of two from 16 to 256.
    public init(bits: Int, blockSize: Int = 32, symmetric: Bool = false) throws {
        guard bits == 4 || bits == 8 else { throw ExportError("quantization takes 4 or 8 bits, not \(bits)") }
        guard (16...256).contains(blockSize), blockSize & (blockSize - 1) == 0 else {
            throw ExportError("the quantization block size must be a power of two from 16 to 256, not \(blockSize)")
        }
        self.bits = bits
        self.blockSize = blockSize
        self.symmetric = symmetric
    }

    /// `int4, block 32, asymmetric`: for summaries and error messages.
    public var description: String { "int\(bits), block \(blockSize), \(symmetric ? "symmetric" : "asymmetric")" }

    public func blocksPerRow(_ k: Int) -> Int { (k + blockSize - 1) / blockSize }
    /// Bytes of one block's packed values.
    public var blobSize: Int { blockSize * bits / 8 }
    /// Bytes of one row's zero points, packed like the values.
    public func zeroPointBytesPerRow(_ k: Int) -> Int { (blocksPerRow(k) * bits + 7) / 8 }

    /// float32, float16 and bfloat16: the types the kernels read weights in and store scales as
    /// (MatMulNBits' activation types).
    public static func isKernelType(_ type: DataType) -> Bool { type == .float32 || type == .float16 || type == .bfloat16 }

    /// The packed values, scales (in `scaleType`) and zero points (nil when symmetric) of a float
    /// matrix `[N, K]`, computed while `source` streams.
    public func tensors(of source: TensorData, scaleType: DataType) throws -> (packed: TensorData, scales: TensorData, zeroPoints: TensorData?) {
        guard source.shape.count == 2, source.shape[0] > 0, source.shape[1] > 0, source.dtype.isFloatingPoint else {
            throw ExportError("block quantization needs a non-empty 2-D float matrix, got \(source.dtype)\(source.shape)")
        }
        guard Self.isKernelType(scaleType) else { throw ExportError("quantization scales cannot be stored as \(scaleType)") }
        let n = source.shape[0], k = source.shape[1]
        func part(_ p: Part, _ dtype: DataType, _ shape: [Int]) -> TensorData {
            TensorData(dtype: dtype, shape: shape, storage: .transformed(source, .blockQuantized(self, scaleType: scaleType, p)))
        }
        return (part(.packed, .uint8, [n, blocksPerRow(k), blobSize]),
                part(.scales, scaleType, [n * blocksPerRow(k)]),
                symmetric ? nil : part(.zeroPoints, .uint8, [n * zeroPointBytesPerRow(k)]))
    }
}
