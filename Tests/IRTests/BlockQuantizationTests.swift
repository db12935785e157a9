import Dispatch
import Foundation
import Testing
@testable import ONNXExportIR

/// onnxruntime's block-wise round-to-nearest arithmetic (`MlasQuantizeBlockwise`), written element by element in
/// Swift, independently of the C kernel: the tests hold the kernel's bytes to it.
enum ReferenceQuantization {
    static func quantize(_ w: [Float], rows: Int, k: Int, _ q: BlockQuantization, scaleType: DataType = .float32)
        -> (packed: [UInt8], scales: [UInt8], zeroPoints: [UInt8]) {
        let blocks = q.blocksPerRow(k), top = Float((1 << q.bits) - 1)
        var packed: [UInt8] = [], scales: [UInt8] = [], zeroPoints: [UInt8] = []
        for r in 0..<rows {
            var zeros: [Int] = []
            for j in 0..<blocks {
                let real = Array(w[(r * k + j * q.blockSize)..<(r * k + min(k, (j + 1) * q.blockSize))])
                var lo = real.min()!, hi = real.max()!
                let scale: Float, zero: Int
                if q.symmetric {
                    let extreme = abs(hi) > abs(lo) ? hi : lo
                    scale = -extreme / Float(1 << (q.bits - 1))
                    zero = 1 << (q.bits - 1)
                } else {
                    lo = min(lo, 0); hi = max(hi, 0)
                    scale = (hi - lo) / top
                    let zeroReal = scale != 0 ? 0 - lo / scale : lo
                    zero = zeroReal < 0 ? 0 : zeroReal > top ? Int(top) : Int(zeroReal.rounded(.toNearestOrAwayFromZero))
                }
                zeros.append(zero)
                let stored: Float
                switch scaleType {
                case .float16:
                    let h = Float16(scale)
                    scales += [UInt8(h.bitPattern & 0xff), UInt8(h.bitPattern >> 8)]
                    stored = Float(h)
                case .bfloat16:
                    let b = FloatConversion.floatToBFloat16(scale)
                    scales += [UInt8(b & 0xff), UInt8(b >> 8)]
                    stored = Float(bitPattern: UInt32(b) << 16)
                default:
                    withUnsafeBytes(of: scale.bitPattern.littleEndian) { scales += $0 }
                    stored = scale
                }
                let reciprocal: Float = stored != 0 ? 1 / stored : 0
                let codes: [UInt8] = (0..<q.blockSize).map { i in
                    let x = i < real.count ? real[i] : 0
                    let y = x * reciprocal + Float(zero)
                    return UInt8(min(max(y.isNaN ? 0 : y, 0), top).rounded(.toNearestOrAwayFromZero))
                }
                packed += q.bits == 8 ? codes : stride(from: 0, to: q.blockSize, by: 2).map { codes[$0] | codes[$0 + 1] << 4 }
            }
            if q.symmetric { continue }
            if q.bits == 8 {
                zeroPoints += zeros.map(UInt8.init)
            } else {
                if zeros.count % 2 == 1 { zeros.append(8) }
                zeroPoints += stride(from: 0, to: zeros.count, by: 2).map { UInt8(zeros[$0] | zeros[$0 + 1] << 4) }
            }
        }
        return (packed, scales, zeroPoints)
    }

    /// Dequantized `[rows, k]` from the tensors (float32 scales).
    static func dequantize(_ t: (packed: [UInt8], scales: [UInt8], zeroPoints: [UInt8]), rows: Int, k: Int, _ q: BlockQuantization)
        -> (values: [Float], steps: [Float], codes: [Int]) {
        let blocks = q.blocksPerRow(k)
        var values: [Float] = [], steps: [Float] = [], codes: [Int] = []
        for r in 0..<rows {
            for c in 0..<k {
                let j = c / q.blockSize, b = r * blocks + j
                let s = Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(t.scales[4 * b + $1]) << (8 * $1) })
                let byte = Int(t.packed[(r * blocks + j) * q.blobSize + (c % q.blockSize) * q.bits / 8])
                let code = q.bits == 8 ? byte : (c % 2 == 0 ? byte & 15 : byte >> 4)
                let zero: Int
                if q.symmetric { zero = 1 << (q.bits - 1) }
                else if q.bits == 8 { zero = Int(t.zeroPoints[r * blocks + j]) }
                else { let z = Int(t.zeroPoints[r * q.zeroPointBytesPerRow(k) + j / 2]); zero = j % 2 == 0 ? z & 15 : z >> 4 }
                values.append(Float(code - zero) * s)
                steps.append(abs(s))
                codes.append(code)
            }
        }
        return (values, steps, codes)
    }
}

@Suite struct BlockQuantizationTests {
    /// Rows that stress the block statistics: all zero, all equal (both signs), negative-only, positive-only,
    /// mixed with a large outlier; K = 50 leaves a partial last block for every block size.
    static func awkwardMatrix(k: Int = 50) -> [Float] {
        var generator = SplitMix(seed: 7)
        let rows: [[Float]] = [
            Array(repeating: 0, count: k),
            Array(repeating: 0.25, count: k),
            Array(repeating: -0.7, count: k),
            (0..<k).map { _ in -Float.random(in: 0.01...2, using: &generator) },
            (0..<k).map { _ in Float.random(in: 0.01...2, using: &generator) },
            (0..<k).map { i in i == 17 ? 40 : Float.random(in: -1...1, using: &generator) },
        ]
        return rows.flatMap { $0 }
    }

    static func parts(_ w: [Float], rows: Int, k: Int, _ q: BlockQuantization, scaleType: DataType = .float32) throws -> (packed: [UInt8], scales: [UInt8], zeroPoints: [UInt8]) {
        let t = try q.tensors(of: TensorData.float32(w, shape: [rows, k]), scaleType: scaleType)
        return (try t.packed.materialize(), try t.scales.materialize(), try t.zeroPoints?.materialize() ?? [])
    }

    @Test(arguments: [(4, 16, false), (4, 32, false), (8, 32, false), (4, 16, true), (8, 64, true), (8, 16, false), (4, 256, false)])
    func matchesTheReferenceOnAwkwardBlocks(bits: Int, block: Int, symmetric: Bool) throws {
        let q = try BlockQuantization(bits: bits, blockSize: block, symmetric: symmetric)
        let w = Self.awkwardMatrix()
        for scaleType in [DataType.float32, .float16, .bfloat16] {
            let got = try Self.parts(w, rows: 6, k: 50, q, scaleType: scaleType)
            let want = ReferenceQuantization.quantize(w, rows: 6, k: 50, q, scaleType: scaleType)
            #expect(got.packed == want.packed, "\(q) \(scaleType) packed")
            #expect(got.scales == want.scales, "\(q) \(scaleType) scales")
            #expect(got.zeroPoints == want.zeroPoints, "\(q) \(scaleType) zero points")
        }
    }

    /// Every weight reads back within half a step of its source; symmetric blocks' clamped top code within one.
    @Test(arguments: [(4, false), (8, false), (4, true), (8, true)])
    func dequantizedWeightsAreWithinHalfAStep(bits: Int, symmetric: Bool) throws {
        var generator = SplitMix(seed: 11)
        let rows = 9, k = 300
        let w = Self.awkwardMatrix(k: k) + (0..<(3 * k)).map { _ in Float.random(in: -0.2...0.3, using: &generator) }
        for block in [16, 32, 64, 128] {
            let q = try BlockQuantization(bits: bits, blockSize: block, symmetric: symmetric)
            let (values, steps, codes) = ReferenceQuantization.dequantize(try Self.parts(w, rows: rows, k: k, q), rows: rows, k: k, q)
            for i in w.indices {
                let clamped = symmetric && codes[i] == (1 << bits) - 1
                let allowed = (clamped ? steps[i] : steps[i] / 2) * (1 + 1e-6)
                #expect(abs(w[i] - values[i]) <= allowed, "\(q) element \(i): \(w[i]) read back as \(values[i])")
            }
        }
    }

    /// Half-precision sources are widened exactly by the kernel as it reads them.
    @Test func halfPrecisionSourcesAreWidenedAsTheyAreRead() throws {
        let q = try BlockQuantization(bits: 4, blockSize: 16)
        let values = Self.awkwardMatrix()
        let halves = values.map { Float16($0) }
        let bfloats = values.map { FloatConversion.floatToBFloat16($0) }
        let sources: [(TensorData, [Float])] = [
            (TensorData.scalars(halves.map(\.bitPattern), dtype: .float16, shape: [6, 50]), halves.map(Float.init)),
            (TensorData.scalars(bfloats, dtype: .bfloat16, shape: [6, 50]), bfloats.map { Float(bitPattern: UInt32($0) << 16) }),
        ]
        for (source, widened) in sources {
            let t = try q.tensors(of: source, scaleType: .float16)
            let want = ReferenceQuantization.quantize(widened, rows: 6, k: 50, q, scaleType: .float16)
            #expect(try t.packed.materialize() == want.packed, "\(source.dtype)")
            #expect(try t.scales.materialize() == want.scales, "\(source.dtype)")
            #expect(try t.zeroPoints?.materialize() == want.zeroPoints, "\(source.dtype)")
        }
    }

    /// A matrix large enough to be shared between the cores, streamed whole, in pieces of awkward sizes, row by
    /// row, and on many threads at once: the same bytes every time.
    @Test func neitherChunksNorThreadsChangeTheBytes() throws {
        var generator = SplitMix(seed: 3)
        let rows = 257, k = 1000
        let w = (0..<(rows * k)).map { _ in Float.random(in: -1...1, using: &generator) }
        let q = try BlockQuantization(bits: 4, blockSize: 32)
        let whole = try Self.parts(w, rows: rows, k: k, q)
        #expect(whole.packed == ReferenceQuantization.quantize(w, rows: rows, k: k, q).packed)
        let bytes = TensorData.float32(w, shape: [rows, k]).inlineBytes ?? []
        for piece in [1, 7, 4093, 4000, 1 << 20] {
            let collector = ByteCollector()
            let sink = try QuantizingSink(rows: rows, columns: k, quantization: q, scaleType: .float32, packedSink: collector)
            try bytes.withUnsafeBytes { all in
                var start = 0
                while start < all.count {
                    try sink.write(UnsafeRawBufferPointer(rebasing: all[start..<min(all.count, start + piece)]))
                    start += piece
                }
            }
            try sink.finish()
            #expect(collector.bytes == whole.packed, "pieces of \(piece) bytes")
            #expect(sink.parameters.scales == whole.scales && sink.parameters.zeroPoints == whole.zeroPoints, "pieces of \(piece) bytes")
        }
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in results.set(i, try? Self.parts(w, rows: rows, k: k, q).packed) }
        #expect(results.values.allSatisfy { $0 == whole.packed })
    }

    /// A transposed stored matrix (GPT-2's Conv1D) is quantized by the column kernel straight from the file: the same
    /// bytes as the row kernel on the transposed values, small and wide, every setting.
    @Test(arguments: [(4, 16, false), (8, 32, true), (4, 64, true), (8, 128, false)])
    func storedTransposesGiveTheBytesOfTheirRows(bits: Int, block: Int, symmetric: Bool) throws {
        var generator = SplitMix(seed: 5)
        for (k, n) in [(50, 37), (700, 300)] {
            var stored = (0..<(k * n)).map { _ in Float.random(in: -1...0.5, using: &generator) }
            for c in 0..<k { stored[c * n] = 0; stored[c * n + 1] = -0.25 }  // an all-zero and an all-equal output row
            let bytes = TensorData.float32(stored, shape: [k, n]).inlineBytes ?? []
            let path = NSTemporaryDirectory() + "quantize-columns-\(UUID().uuidString).bin"
            _ = FileManager.default.createFile(atPath: path, contents: Data([0, 0, 0, 0] + bytes))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let file = try TensorData.file(FileRegion(path: path, offset: 4, length: bytes.count), dtype: .float32, shape: [k, n])
            let rows = (0..<n).flatMap { r in (0..<k).map { c in stored[c * n + r] } }
            let q = try BlockQuantization(bits: bits, blockSize: block, symmetric: symmetric)
            for scaleType in [DataType.float32, .float16] {
                let columns = try q.tensors(of: try file.transposed(), scaleType: scaleType)
                let want = ReferenceQuantization.quantize(rows, rows: n, k: k, q, scaleType: scaleType)
                #expect(try columns.packed.materialize() == want.packed, "\(q) [\(k), \(n)] \(scaleType)")
                #expect(try columns.scales.materialize() == want.scales, "\(q) [\(k), \(n)] \(scaleType)")
                #expect(try columns.zeroPoints?.materialize() ?? [] == want.zeroPoints, "\(q) [\(k), \(n)] \(scaleType)")
            }
        }
    }

    @Test func sourcesOfTheWrongSizeAreErrors() throws {
        let q = try BlockQuantization(bits: 8, blockSize: 16)
        for count in [3 * 20 - 1, 3 * 20 + 1, 4 * 20] {
            let source = try TensorData.produced(FixedBytes(count: count * 4), dtype: .uint8, shape: [count * 4])
            let lying = TensorData(dtype: .float32, shape: [3, 20], storage: source.storage)
            let t = try q.tensors(of: lying, scaleType: .float32)
            #expect(throws: ExportError.self) { try t.packed.materialize() }
            #expect(throws: ExportError.self) { try t.scales.materialize() }
        }
    }

    @Test func settingsMatMulNBitsCannotHoldAreRefused() throws {
        for (bits, block) in [(3, 32), (2, 32), (16, 32), (4, 8), (4, 24), (4, 512), (8, 0)] {
            #expect(throws: ExportError.self) { try BlockQuantization(bits: bits, blockSize: block) }
        }
        let q = try BlockQuantization(bits: 4)
        #expect(throws: ExportError.self) { try q.tensors(of: .float32([1, 2, 3]), scaleType: .float32) }
        #expect(throws: ExportError.self) { try q.tensors(of: .int64([1, 2, 3, 4], shape: [2, 2]), scaleType: .float32) }
        #expect(throws: ExportError.self) { try q.tensors(of: .float32([1, 2, 3, 4], shape: [2, 2]), scaleType: .int8) }
    }
}

@Suite struct BlockParameterCacheTests {
    func key(_ symmetric: Bool = false) throws -> BlockParameterCache.Key {
        .init(source: .float32([1, 2], shape: [1, 2]), quantization: try BlockQuantization(bits: 4, symmetric: symmetric), scaleType: .float32)
    }

    @Test func partsAreKeptUntilEachWasTaken() throws {
        let cache = BlockParameterCache()
        let k = try key()
        cache.beginPacking(k)
        cache.endPacking(k, leaving: BlockParameters(scales: [1, 2, 3, 4], zeroPoints: [5]))
        #expect(cache.take(.scales, of: k) == [1, 2, 3, 4])
        #expect(cache.count == 1)
        #expect(cache.take(.zeroPoints, of: k) == [5])
        #expect(cache.count == 0)
        #expect(cache.take(.scales, of: k) == nil)
        // Computed for the scales alone: the zero points stay for their turn.
        cache.keep(BlockParameters(scales: [9, 9, 9, 9], zeroPoints: [7]), for: k, taking: .scales)
        #expect(cache.take(.zeroPoints, of: k) == [7])
        let symmetric = try key(true)
        cache.keep(BlockParameters(scales: [1, 1, 1, 1], zeroPoints: []), for: symmetric, taking: .scales)
        #expect(cache.count == 0)
    }

    @Test func aPartAskedForWhilePackingWaitsForIt() throws {
        let cache = BlockParameterCache()
        let k = try key()
        cache.beginPacking(k)
        let taken = ResultBox(count: 1)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            taken.set(0, cache.take(.scales, of: k))
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 0.2) == .timedOut)
        cache.endPacking(k, leaving: BlockParameters(scales: [4, 3, 2, 1], zeroPoints: [0]))
        done.wait()
        #expect(taken.values == [[4, 3, 2, 1]])
    }

    @Test func memoryStaysUnderTheLimit() throws {
        let cache = BlockParameterCache(limit: 10)
        let a = try key(), b = BlockParameterCache.Key(source: .float32([3], shape: [1, 1]), quantization: try BlockQuantization(bits: 4), scaleType: .float32)
        cache.keep(BlockParameters(scales: [1, 2, 3, 4, 5, 6], zeroPoints: [1]), for: a, taking: .scales)
        cache.keep(BlockParameters(scales: [1, 2, 3, 4, 5, 6], zeroPoints: [1]), for: b, taking: .scales)
        #expect(cache.count == 1)
        #expect(cache.take(.zeroPoints, of: a) == nil)
        #expect(cache.take(.zeroPoints, of: b) == [1])
    }
}

/// Results written by concurrent closures.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [[UInt8]?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: [UInt8]?) { lock.lock(); values[i] = value; lock.unlock() }
}

/// A producer of `count` zero bytes (a source whose size the tensor it backs gets wrong).
struct FixedBytes: TensorByteProducer {
    let count: Int
    var identity: String { "fixed-\(count)" }
    var byteCount: Int { count }
    func stream(into sink: TensorByteSink) throws { try [UInt8](repeating: 0, count: count).withUnsafeBytes { try sink.write($0) } }
}

/// A small deterministic generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
