import Foundation
import CSystemShims

/// A byte range of a file on disk: where a lazily read weight lives.
///
/// `integrity`, when the reader has one, checks the checksummed record the range lies in (a
/// stored zip entry's CRC-32); writers run it beside the copy (`SourceVerifier`), so the range
/// itself can still move kernel to kernel. It is not part of the region's identity: two ranges of
/// the same bytes are the same weight, checked or not.
public struct FileRegion: Hashable, Sendable {
    public var path: String
    public var offset: Int
    public var length: Int
    public var integrity: (any SourceIntegrityCheck)?

    public init(path: String, offset: Int, length: Int, integrity: (any SourceIntegrityCheck)? = nil) {
        self.path = path; self.offset = offset; self.length = length; self.integrity = integrity
    }

    public static func == (a: FileRegion, b: FileRegion) -> Bool {
        a.path == b.path && a.offset == b.offset && a.length == b.length
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path); hasher.combine(offset); hasher.combine(length)
    }
}

/// A reshaping of weight bytes applied while they stream to the output, so nothing whole is held.
public enum TensorTransform: Hashable, Sendable {
    /// `[rows, cols]` → `[cols, rows]` (PyTorch `Linear` stores `[out, in]`; `MatMul` wants `[in, out]`).
    case transpose2D
    /// Rows `[start, start + count)` of the first axis (one part of a fused matrix).
    case sliceRows(start: Int, count: Int)
    /// Floating-point values converted, chunk by chunk, from the base's type to this tensor's
    /// (half precision widened to float32, float32 narrowed to float16 or bfloat16, ...).
    case convert
    /// One of the tensors `com.microsoft.MatMulNBits` reads, computed from a float `[N, K]` base
    /// as it streams (`BlockQuantization`, `BlockQuantizer`); scales are stored as `scaleType`.
    case blockQuantized(BlockQuantization, scaleType: DataType, BlockQuantization.Part)
}

/// Bytes made by code outside the IR when they stream: a deflated zip entry inflated, a
/// checkpoint range checked against its CRC. `identity` names the bytes (file, offset, what is
/// done to them) so equal sources compare equal and tied weights are still stored once.
public protocol TensorByteProducer: Sendable {
    var identity: String { get }
    /// Exactly the bytes `stream` delivers.
    var byteCount: Int { get }
    func stream(into sink: TensorByteSink) throws
}

/// A `TensorByteProducer` compared by identity, so it can sit in `TensorData.Storage`.
public struct ProducedBytes: Hashable, Sendable {
    public let producer: TensorByteProducer
    public init(_ producer: TensorByteProducer) { self.producer = producer }
    public static func == (a: ProducedBytes, b: ProducedBytes) -> Bool { a.producer.identity == b.producer.identity }
    public func hash(into hasher: inout Hasher) { hasher.combine(producer.identity) }
}

/// Receives tensor bytes in order. The backend's file writer implements `copy(from:)` with
/// `copy_file_range`, so untransformed weights never pass through user memory.
public protocol TensorByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func copy(from region: FileRegion) throws
}

/// A sink that owns memory a producer can fill directly (the prefetcher's buffers), sparing the
/// copy from the producer's scratch buffer into it.
public protocol InPlaceByteSink: TensorByteSink {
    /// Hands `body` the next `count` bytes of the sink's memory to fill completely.
    func fillNext(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) throws
}

extension TensorByteSink {
    /// Fallback for sinks without a kernel fast path: the region mapped from the page cache a
    /// window at a time and handed to `write`, so the only copy is the sink's own (where mapping
    /// fails, `withMappedBytes` reads the window instead).
    public func copyByReading(_ region: FileRegion) throws {
        let file = try ReadOnlyFile(path: region.path)
        let window = 16 << 20
        var done = 0
        while done < region.length {
            let n = min(window, region.length - done)
            try file.withMappedBytes(at: region.offset + done, count: n) { try write($0) }
            done += n
        }
    }
}

/// The bytes of a constant tensor: in memory (small constants the graph builder makes), or a
/// reference into a checkpoint file plus transforms applied while streaming.
///
/// Shape and dtype never touch the disk; `stream(into:)` is the only place weight bytes are read.
public struct TensorData: Hashable, Sendable {
    public indirect enum Storage: Hashable, Sendable {
        case inline([UInt8])
        case file(FileRegion)
        /// Bytes a reader produces while streaming (inflated, CRC-checked, ...).
        case produced(ProducedBytes)
        case transformed(TensorData, TensorTransform)
        /// Several tensors one after another along the first axis, each streamed in turn (a fused
        /// matrix made of a checkpoint's separate ones: `--target onnxruntime`'s q|k|v projection).
        case concatenated([TensorData])
    }

    public var dtype: DataType
    public var shape: [Int]
    public var storage: Storage

    public init(dtype: DataType, shape: [Int], storage: Storage) {
        self.dtype = dtype; self.shape = shape; self.storage = storage
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// A tensor whose bytes a reader produces; checks the producer's size against `shape × dtype`.
    public static func produced(_ producer: TensorByteProducer, dtype: DataType, shape: [Int]) throws -> TensorData {
        let t = TensorData(dtype: dtype, shape: shape, storage: .produced(ProducedBytes(producer)))
        guard t.byteCount == producer.byteCount else {
            throw ExportError("\(producer.identity): tensor of \(dtype)\(shape) needs \(t.byteCount) bytes but its source holds \(producer.byteCount)")
        }
        return t
    }

    /// A file-backed tensor; checks that the byte range holds exactly `shape × dtype`.
    public static func file(_ region: FileRegion, dtype: DataType, shape: [Int]) throws -> TensorData {
        let t = TensorData(dtype: dtype, shape: shape, storage: .file(region))
        guard t.byteCount == region.length else {
            throw ExportError("\(region.path): tensor of \(dtype)\(shape) needs \(t.byteCount) bytes but its range holds \(region.length)")
        }
        return t
    }

    public static func scalars<T: FixedWidthInteger>(_ values: [T], dtype: DataType, shape: [Int]) -> TensorData {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        return TensorData(dtype: dtype, shape: shape, storage: .inline(bytes))
    }

    public static func int64(_ values: [Int64], shape: [Int]? = nil) -> TensorData {
        scalars(values, dtype: .int64, shape: shape ?? [values.count])
    }

    public static func float32(_ values: [Float], shape: [Int]? = nil) -> TensorData {
        scalars(values.map(\.bitPattern), dtype: .float32, shape: shape ?? [values.count])
    }

    /// A float scalar stored as `dtype` (float32, float16 or bfloat16), for constants that must
    /// match the type of the tensor they combine with.
    public static func floatScalar(_ x: Float, as dtype: DataType) -> TensorData {
        switch dtype {
        case .float16: return scalars([FloatConversion.floatToHalf(x)], dtype: .float16, shape: [])
        case .bfloat16: return scalars([FloatConversion.floatToBFloat16(x)], dtype: .bfloat16, shape: [])
        default: return float32([x], shape: [])
        }
    }

    public static func bool(_ values: [Bool], shape: [Int]? = nil) -> TensorData {
        TensorData(dtype: .bool, shape: shape ?? [values.count], storage: .inline(values.map { $0 ? 1 : 0 }))
    }

    /// The transposed view of a 2-D tensor.
    public func transposed() throws -> TensorData {
        guard shape.count == 2 else { throw ExportError("transpose needs a 2-D tensor, got shape \(shape)") }
        // Transpose in the stored type, convert after: the transpose then reads its source in
        // bounded bands straight from the file.
        if case .transformed(let stored, .convert) = storage {
            return TensorData(dtype: dtype, shape: [shape[1], shape[0]], storage: .transformed(try stored.transposed(), .convert))
        }
        return TensorData(dtype: dtype, shape: [shape[1], shape[0]], storage: .transformed(self, .transpose2D))
    }

    /// The `[cols, rows]` matrix this `[rows, cols]` one is the transpose of: the base of a
    /// transpose made while streaming (so nothing is transposed twice), else a transposed view.
    public func untransposed() throws -> TensorData {
        guard shape.count == 2 else { throw ExportError("transpose needs a 2-D tensor, got shape \(shape)") }
        if case .transformed(let base, .transpose2D) = storage { return base }
        if case .transformed(let stored, .convert) = storage {
            return TensorData(dtype: dtype, shape: [shape[1], shape[0]], storage: .transformed(try stored.untransposed(), .convert))
        }
        return try transposed()
    }

    /// The same bytes under another shape of as many elements (row-major, as `reshape` on a
    /// contiguous tensor): XLNet's `[d_model, heads, head_size]` projections are MatMul's
    /// `[d_model, heads · head_size]` as stored.
    public func reshaped(_ newShape: [Int]) throws -> TensorData {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == elementCount else {
            throw ExportError("cannot view a tensor of shape \(shape) as \(newShape)")
        }
        // A widened view keeps its stored tensor reshaped too: narrowing it back later unwraps the
        // conversion and must find the new shape there.
        if case .transformed(let stored, .convert) = storage {
            return TensorData(dtype: dtype, shape: newShape, storage: .transformed(try stored.reshaped(newShape), .convert))
        }
        return TensorData(dtype: dtype, shape: newShape, storage: storage)
    }

    /// `parts` joined along the first axis, lazily: nothing is read until the result streams.
    /// Parts widened from one stored type are joined stored and widened once, so the result is
    /// still a conversion of checkpoint bytes (what narrowing and quantizing look for).
    public static func concatenated(_ parts: [TensorData]) throws -> TensorData {
        guard let first = parts.first else { throw ExportError("cannot concatenate no tensors") }
        let trailing = Array(first.shape.dropFirst())
        guard !first.shape.isEmpty, parts.allSatisfy({ $0.dtype == first.dtype && !$0.shape.isEmpty && Array($0.shape.dropFirst()) == trailing }) else {
            throw ExportError("cannot concatenate tensors of shapes \(parts.map(\.shape)) and types \(parts.map(\.dtype)) along their first axis")
        }
        let rows = parts.reduce(0) { $0 + $1.shape[0] }
        let stored = parts.compactMap { part -> TensorData? in
            if case .transformed(let s, .convert) = part.storage { return s } else { return nil }
        }
        if stored.count == parts.count, let storedType = stored.first?.dtype, stored.allSatisfy({ $0.dtype == storedType }) {
            return TensorData(dtype: first.dtype, shape: [rows] + trailing, storage: .transformed(try concatenated(stored), .convert))
        }
        return TensorData(dtype: first.dtype, shape: [rows] + trailing, storage: .concatenated(parts))
    }

    /// Rows `[start, start+count)` of the first axis.
    public func rows(_ start: Int, _ count: Int) throws -> TensorData {
        guard let first = shape.first, start >= 0, count >= 0, start + count <= first else {
            throw ExportError("row slice [\(start), \(start + count)) is outside a tensor of shape \(shape)")
        }
        // Slice in the stored type, convert after, so the slice stays a file range.
        if case .transformed(let stored, .convert) = storage {
            return TensorData(dtype: dtype, shape: [count] + shape.dropFirst(), storage: .transformed(try stored.rows(start, count), .convert))
        }
        return TensorData(dtype: dtype, shape: [count] + shape.dropFirst(), storage: .transformed(self, .sliceRows(start: start, count: count)))
    }

    /// The same values as float32 (a no-op for float32): checkpoints saved in half precision
    /// export to float32 unless asked otherwise.
    public func asFloat32() throws -> TensorData { try converted(to: .float32) }

    /// The same values in another floating-point type, converted while streaming. Converting back
    /// to the type a tensor was stored in undoes the conversion instead of stacking a second one,
    /// so a float16 checkpoint exported as float16 is copied file to file; small inline tensors
    /// are converted at once.
    public func converted(to target: DataType) throws -> TensorData {
        guard FloatConversion.isConvertible(dtype), FloatConversion.isConvertible(target), target != .float64 else {
            throw ExportError("cannot convert a \(dtype) tensor to \(target)")
        }
        if dtype == target { return self }
        if case .transformed(let stored, .convert) = storage {
            return stored.dtype == target ? stored : TensorData(dtype: target, shape: shape, storage: .transformed(stored, .convert))
        }
        let converted = TensorData(dtype: target, shape: shape, storage: .transformed(self, .convert))
        if case .inline = storage { return TensorData(dtype: target, shape: shape, storage: .inline(try converted.materialize())) }
        return converted
    }

    /// Inline bytes, if this tensor lives in memory (used by constant folding on small tensors).
    public var inlineBytes: [UInt8]? { if case .inline(let b) = storage { return b } else { return nil } }

    /// Streams the bytes, in order, into `sink`.
    public func stream(into sink: TensorByteSink) throws {
        switch storage {
        case .inline(let bytes):
            try bytes.withUnsafeBytes { try sink.write($0) }
        case .file(let region):
            try sink.copy(from: region)
        case .produced(let bytes):
            try bytes.producer.stream(into: sink)
        case .transformed(let base, .sliceRows(let start, _)):
            let rowBytes = base.shape.dropFirst().reduce(1, *) * base.dtype.byteSize
            if case .file(let region) = base.storage {
                try sink.copy(from: FileRegion(path: region.path, offset: region.offset + start * rowBytes, length: byteCount))
            } else {
                let all = try base.materialize()
                try all.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[start * rowBytes ..< start * rowBytes + byteCount])) }
            }
        case .transformed(let base, .transpose2D):
            try TransposeStreamer(source: base).stream(into: sink)
        case .transformed(let base, .convert):
            try FloatConversion(source: base, target: dtype).stream(into: sink)
        case .transformed(let base, .blockQuantized(let quantization, let scaleType, let part)):
            try BlockQuantizer(source: base, quantization: quantization, scaleType: scaleType).stream(part, into: sink)
        case .concatenated(let parts):
            for part in parts { try part.stream(into: sink) }
        }
    }

    /// All bytes in memory. Only for small tensors (constant folding, tests).
    public func materialize() throws -> [UInt8] {
        let collector = ByteCollector()
        try stream(into: collector)
        return collector.bytes
    }
}

/// A sink that keeps everything in memory.
public final class ByteCollector: TensorByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    public func copy(from region: FileRegion) throws { try copyByReading(region) }
}
