/// Type and shape rules for every op: given the inputs' types (and the symbolic contents of small
/// shape tensors), the outputs' types. The graph builder applies them as nodes are added and the
/// `InferShapes` pass re-checks a whole graph. A mismatch is an error naming the node.
public enum ShapeRules {
    public struct Inferred: Equatable {
        public var type: TensorType
        public var symbolicContents: [Dim]?
        public init(_ type: TensorType, _ contents: [Dim]? = nil) { self.type = type; self.symbolicContents = contents }
    }

    /// `inputs` are the infos of the node's inputs (nil for omitted optional inputs).
    public static func infer(_ op: Op, _ inputs: [ValueInfo?], node: String) throws -> [Inferred] {
        func fail(_ why: String) -> ExportError { ExportError("shape inference: node \(node) (\(op.kind)): \(why)") }
        func input(_ i: Int) throws -> ValueInfo {
            guard i < inputs.count, let v = inputs[i] else { throw fail("input \(i) is missing") }
            return v
        }
        func ints(_ i: Int) -> [Int]? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            if let dims = v.symbolicContents { return dims.compactMap(\.fixedValue).count == dims.count ? dims.map { $0.fixedValue ?? 0 } : nil }
            return v.constantData.flatMap(Self.int64Contents)
        }
        func dims(_ i: Int) -> [Dim]? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            if let d = v.symbolicContents { return d }
            return v.constantData.flatMap(Self.int64Contents)?.map { Dim.fixed($0) }
        }
        func sameDType(_ infos: [ValueInfo]) throws -> DataType {
            let t = infos[0].type.dtype
            for other in infos.dropFirst() where other.type.dtype != t {
                throw fail("inputs disagree on element type: \(infos.map { $0.type.dtype.description }.joined(separator: " vs "))")
            }
            return t
        }

        switch op {
        case .add, .sub, .mul, .div, .pow:
            let a = try input(0), b = try input(1)
            let dtype = op == .pow ? a.type.dtype : try sameDType([a, b])
            let shape = try broadcast(a.type.shape, b.type.shape, fail)
            return [Inferred(TensorType(dtype, shape), elementwise(op, a.symbolicContents, b.symbolicContents))]
        case .equal, .less, .greater, .and, .or:
            let a = try input(0), b = try input(1)
            _ = try sameDType([a, b])
            return [Inferred(TensorType(.bool, try broadcast(a.type.shape, b.type.shape, fail)))]
        case .where:
            let c = try input(0), x = try input(1), y = try input(2)
            guard c.type.dtype == .bool else { throw fail("condition must be bool, got \(c.type.dtype)") }
            let dtype = try sameDType([x, y])
            let s = try broadcast(try broadcast(c.type.shape, x.type.shape, fail), y.type.shape, fail)
            return [Inferred(TensorType(dtype, s))]
        case .identity, .saturateFloat16:
            let x = try input(0)
            return [Inferred(x.type, x.symbolicContents)]
        case .not:
            let x = try input(0)
            guard x.type.dtype == .bool else { throw fail("Not needs bool, got \(x.type.dtype)") }
            return [Inferred(x.type)]
        case .neg, .sqrt, .reciprocal, .exp, .log, .tanh, .erf, .sigmoid, .relu, .softplus, .cos, .sin, .gelu, .softmax, .logSoftmax, .cumSum:
            let x = try input(0)
            if case .softmax(let axis) = op, normalize(axis, x.type.rank) == nil { throw fail("axis \(axis) out of range for rank \(x.type.rank)") }
            if case .logSoftmax(let axis) = op, normalize(axis, x.type.rank) == nil { throw fail("axis \(axis) out of range for rank \(x.type.rank)") }
            return [Inferred(x.type)]
        case .cast(let to):
            let x = try input(0)
            let keep = (x.type.dtype == .int64 || x.type.dtype == .int32) && (to == .int64 || to == .int32)
            return [Inferred(TensorType(to, x.type.shape), keep ? x.symbolicContents : nil)]
        case .layerNorm:
            let x = try input(0), scale = try input(1)
            guard let last = x.type.shape.last else { throw fail("input has rank 0") }
            if let n = scale.type.shape.last, scale.type.rank == 1, !compatible(n, last) {
                throw fail("scale has \(n) elements but the normalised axis has \(last)")
            }
            return [Inferred(x.type)]
        case .rmsNorm:
            let x = try input(0), scale = try input(1)
            guard let last = x.type.shape.last else { throw fail("input has rank 0") }
            if let n = scale.type.shape.last, scale.type.rank == 1, !compatible(n, last) {
                throw fail("scale has \(n) elements but the normalised axis has \(last)")
            }
            return [Inferred(x.type)]
        case .headAttention:
            let q = try input(0), k = try input(1), v = try input(2)
            _ = try sameDType([q, k, v])
            guard q.type.rank == 4, k.type.rank == 4, v.type.rank == 4 else { throw fail("query, key and value must be [batch, heads, sequence, head_dim]") }
            guard let hq = q.type.shape[1].fixedValue, let hkv = k.type.shape[1].fixedValue, hkv > 0, hq % hkv == 0 else {
                throw fail("query heads \(q.type.shape[1]) must be a multiple of key/value heads \(k.type.shape[1])")
            }
            guard compatible(q.type.shape[3], k.type.shape[3]), compatible(k.type.shape[2], v.type.shape[2]) else {
                throw fail("incompatible query \(q.type), key \(k.type), value \(v.type)")
            }
            return [Inferred(TensorType(q.type.dtype, [q.type.shape[0], q.type.shape[1], q.type.shape[2], v.type.shape[3]]))]
        case .groupQueryAttention(let heads, let kvHeads, _, let rotary):
            return try groupQueryAttention(inputs, heads: heads, keyValueHeads: kvHeads, rotary: rotary, fail)
        case .skipRMSNorm:
            let x = try input(0), skip = try input(1), scale = try input(2)
            _ = try sameDType([x, skip, scale])
            guard x.type.rank == skip.type.rank, zip(x.type.shape, skip.type.shape).allSatisfy({ compatible($0, $1) }),
                  let last = x.type.shape.last else {
                throw fail("x \(x.type) and skip \(skip.type) must have one shape")
            }
            if let n = scale.type.shape.last, scale.type.rank == 1, !compatible(n, last) {
                throw fail("scale has \(n) elements but the normalised axis has \(last)")
            }
            return [Inferred(x.type), Inferred(x.type)]
        case .rotaryEmbedding:
            let x = try input(0), cos = try input(1), sin = try input(2)
            guard x.type.rank == 4, cos.type.rank == 4, sin.type.rank == 4 else { throw fail("expects x [B, H, S, D] and cos/sin [B, 1, S, R]") }
            guard let r = cos.type.shape[3].fixedValue, r % 2 == 0 else { throw fail("rotary width \(cos.type.shape[3]) must be a known even number") }
            if let d = x.type.shape[3].fixedValue, r > d { throw fail("rotary width \(r) exceeds head size \(d)") }
            return [Inferred(x.type)]
        case .range:
            let start = try input(0)
            guard let s0 = dims(0)?.first, let limit = dims(1)?.first, let delta = ints(2)?.first, delta == 1 else {
                return [Inferred(TensorType(start.type.dtype, [.unknown]))]
            }
            return [Inferred(TensorType(start.type.dtype, [limit - s0]))]
        case .argMax(let axis, let keep):
            let x = try input(0)
            guard let a = normalize(axis, x.type.rank) else { throw fail("axis \(axis) out of range") }
            var shape = x.type.shape
            if keep { shape[a] = 1 } else { shape.remove(at: a) }
            return [Inferred(TensorType(.int64, shape))]
        case .matMul:
            let a = try input(0), b = try input(1)
            let dtype = try sameDType([a, b])
            guard a.type.rank >= 2, b.type.rank >= 2 else { throw fail("MatMul here needs rank ≥ 2, got \(a.type) and \(b.type)") }
            let k1 = a.type.shape[a.type.rank - 1], k2 = b.type.shape[b.type.rank - 2]
            guard compatible(k1, k2) else { throw fail("inner dimensions differ: \(a.type) × \(b.type)") }
            let batch = try broadcast(Array(a.type.shape.dropLast(2)), Array(b.type.shape.dropLast(2)), fail)
            return [Inferred(TensorType(dtype, batch + [a.type.shape[a.type.rank - 2], b.type.shape[b.type.rank - 1]]))]
        case .matMulTransposed:
            let a = try input(0), b = try input(1)
            let dtype = try sameDType([a, b])
            guard a.type.rank >= 1, b.type.rank == 2 else { throw fail("needs a [..., K] and b [N, K], got \(a.type) and \(b.type)") }
            guard compatible(a.type.shape[a.type.rank - 1], b.type.shape[1]) else { throw fail("inner dimensions differ: \(a.type) × \(b.type)ᵀ") }
            return [Inferred(TensorType(dtype, a.type.shape.dropLast() + [b.type.shape[0]]))]
        case .blockQuantizedMatMul(let quantization, let k, let n, _):
            let a = try input(0), packed = try input(1), scales = try input(2)
            let zeroPoints = inputs.count > 3 ? inputs[3] : nil
            guard a.type.rank >= 2, a.type.dtype.isFloatingPoint else { throw fail("needs float activations [..., K] of rank ≥ 2, got \(a.type)") }
            guard compatible(a.type.shape[a.type.rank - 1], .fixed(k)) else { throw fail("activations \(a.type) do not end in K = \(k)") }
            let blocks = quantization.blocksPerRow(k)
            var expected: [(String, ValueInfo?, DataType, Int)] = [("scales", scales, a.type.dtype, n * blocks)]
            if quantization.symmetric {
                guard zeroPoints == nil else { throw fail("symmetric quantization takes no zero points") }
            } else {
                expected.append(("zero points", zeroPoints, .uint8, n * quantization.zeroPointBytesPerRow(k)))
            }
            let packedType = TensorType(.uint8, [.fixed(n), .fixed(blocks), .fixed(quantization.blobSize)])
            guard packed.type == packedType else { throw fail("packed weight is \(packed.type), expected \(packedType) for \(quantization), K = \(k), N = \(n)") }
            for (what, info, dtype, count) in expected {
                guard let info else { throw fail("\(what) are missing") }
                guard info.type == TensorType(dtype, [.fixed(count)]) else {
                    throw fail("\(what) are \(info.type), expected \(dtype)[\(count)] for \(quantization), K = \(k), N = \(n)")
                }
            }
            return [Inferred(TensorType(a.type.dtype, a.type.shape.dropLast() + [.fixed(n)]))]
        case .attention(let heads, _):
            let q = try input(0), k = try input(1), v = try input(2)
            _ = try sameDType([q, k, v])
            guard q.type.rank == 3, k.type.rank == 3, v.type.rank == 3 else { throw fail("query, key and value must be [batch, sequence, hidden]") }
            for t in [q, k, v] {
                if let h = t.type.shape[2].fixedValue, h % heads != 0 { throw fail("hidden size \(h) is not divisible by \(heads) heads") }
            }
            guard compatible(q.type.shape[2], k.type.shape[2]) else { throw fail("query and key widths differ: \(q.type) vs \(k.type)") }
            return [Inferred(TensorType(q.type.dtype, [q.type.shape[0], q.type.shape[1], v.type.shape[2]]))]
        case .reshape(let target):
            let x = try input(0)
            return [Inferred(TensorType(x.type.dtype, try reshape(x.type.shape, target, fail)), x.symbolicContents)]
        case .reshapeDynamic:
            let x = try input(0), target = try input(1)
            guard target.type.rank == 1, let n = target.type.shape[0].fixedValue else { throw fail("shape input must be a 1-D int64 tensor of known length") }
            guard let contents = dims(1) else { return [Inferred(TensorType(x.type.dtype, Array(repeating: .unknown, count: n)))] }
            if contents.allSatisfy({ $0.fixedValue != nil }) {
                return [Inferred(TensorType(x.type.dtype, try reshape(x.type.shape, contents.map { $0.fixedValue ?? 0 }, fail)))]
            }
            // Symbolic entries are sizes (never 0 or -1 markers) once the graph runs.
            let fixedMarkers = contents.enumerated().map { i, d -> Dim in
                guard let v = d.fixedValue else { return d }
                return v == 0 && i < x.type.rank ? x.type.shape[i] : (v == -1 ? .unknown : d)
            }
            return [Inferred(TensorType(x.type.dtype, fixedMarkers))]
        case .flatten(let axis):
            let x = try input(0)
            guard let a = axis == x.type.rank ? axis : normalize(axis, x.type.rank) else { throw fail("axis \(axis) out of range") }
            let outer = x.type.shape[..<a].reduce(Dim.fixed(1), *), inner = x.type.shape[a...].reduce(Dim.fixed(1), *)
            return [Inferred(TensorType(x.type.dtype, [outer, inner]))]
        case .transpose(let perm):
            let x = try input(0)
            guard perm.sorted() == Array(0..<x.type.rank) else { throw fail("perm \(perm) does not fit rank \(x.type.rank)") }
            return [Inferred(TensorType(x.type.dtype, perm.map { x.type.shape[$0] }))]
        case .unsqueeze(let axes):
            let x = try input(0)
            let rank = x.type.rank + axes.count
            let norm = axes.compactMap { normalize($0, rank) }
            guard norm.count == axes.count, Set(norm).count == norm.count else { throw fail("axes \(axes) do not fit output rank \(rank)") }
            var shape: [Dim] = []
            var it = x.type.shape.makeIterator()
            for i in 0..<rank { shape.append(norm.contains(i) ? 1 : (it.next() ?? .unknown)) }
            let contents = x.type.rank == 0 ? x.symbolicContents : x.symbolicContents
            return [Inferred(TensorType(x.type.dtype, shape), contents)]
        case .squeeze(let axes):
            let x = try input(0)
            let norm = axes.compactMap { normalize($0, x.type.rank) }
            guard norm.count == axes.count else { throw fail("axes \(axes) do not fit rank \(x.type.rank)") }
            for a in norm where x.type.shape[a].fixedValue.map({ $0 != 1 }) ?? false { throw fail("axis \(a) has size \(x.type.shape[a]), not 1") }
            let shape = x.type.shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element)
            return [Inferred(TensorType(x.type.dtype, shape), x.symbolicContents)]
        case .gather(let axis):
            let data = try input(0), idx = try input(1)
            guard let a = normalize(axis, data.type.rank) else { throw fail("axis \(axis) out of range for rank \(data.type.rank)") }
            guard idx.type.dtype == .int64 || idx.type.dtype == .int32 else { throw fail("indices must be int64 or int32, got \(idx.type.dtype)") }
            let shape = Array(data.type.shape[..<a]) + idx.type.shape + Array(data.type.shape[(a + 1)...])
            var contents: [Dim]? = nil
            if let src = data.symbolicContents ?? data.constantData.flatMap(Self.int64Contents)?.map({ Dim.fixed($0) }),
               data.type.rank == 1, let picks = ints(1) {
                contents = picks.compactMap { p in
                    let i = p < 0 ? p + src.count : p
                    return (0..<src.count).contains(i) ? src[i] : nil
                }
                if contents?.count != picks.count { contents = nil }
            }
            return [Inferred(TensorType(data.type.dtype, shape), contents)]
        case .gatherElements(let axis):
            let data = try input(0), idx = try input(1)
            guard normalize(axis, data.type.rank) != nil else { throw fail("axis \(axis) out of range for rank \(data.type.rank)") }
            guard idx.type.dtype == .int64 || idx.type.dtype == .int32 else { throw fail("indices must be int64 or int32, got \(idx.type.dtype)") }
            guard idx.type.rank == data.type.rank else { throw fail("indices have rank \(idx.type.rank), data rank \(data.type.rank)") }
            return [Inferred(TensorType(data.type.dtype, idx.type.shape))]
        case .conv1D(let padding, let groups):
            let x = try input(0), weight = try input(1)
            let dtype = try sameDType([x, weight])
            guard x.type.rank == 3, weight.type.rank == 3 else { throw fail("needs x [batch, channels, length] and weight [out, in / groups, kernel], got \(x.type) and \(weight.type)") }
            guard groups > 0, padding >= 0 else { throw fail("groups \(groups) and padding \(padding) must be positive and non-negative") }
            if let cin = x.type.shape[1].fixedValue, let per = weight.type.shape[1].fixedValue, cin != per * groups {
                throw fail("\(cin) input channels, but the weight takes \(per) per group × \(groups) groups")
            }
            guard let kernel = weight.type.shape[2].fixedValue else { throw fail("kernel size must be known") }
            let length = x.type.shape[2] + .fixed(2 * padding - kernel + 1)
            return [Inferred(TensorType(dtype, [x.type.shape[0], weight.type.shape[0], length]))]
        case .concat(let axis):
            let parts = try inputs.indices.map { try input($0) }
            guard let first = parts.first else { throw fail("no inputs") }
            let dtype = try sameDType(parts)
            guard let a = normalize(axis, first.type.rank) else { throw fail("axis \(axis) out of range") }
            var shape = first.type.shape
            for p in parts.dropFirst() {
                guard p.type.rank == first.type.rank else { throw fail("inputs have different ranks") }
                shape[a] = shape[a] + p.type.shape[a]
            }
            var contents: [Dim]? = []
            for i in parts.indices { if let d = dims(i) { contents?.append(contentsOf: d) } else { contents = nil } }
            return [Inferred(TensorType(dtype, shape), first.type.rank == 1 ? contents : nil)]
        case .slice:
            let data = try input(0)
            guard let starts = ints(1), let ends = dims(2), let axes = ints(3), starts.count == ends.count, axes.count == starts.count else {
                return [Inferred(TensorType(data.type.dtype, data.type.shape.map { _ in .unknown }))]
            }
            var shape = data.type.shape
            for (k, axis) in axes.enumerated() {
                guard let a = normalize(axis, shape.count) else { throw fail("axis \(axis) out of range") }
                shape[a] = sliceLength(dim: data.type.shape[a], start: starts[k], end: ends[k])
            }
            return [Inferred(TensorType(data.type.dtype, shape))]
        case .shape:
            let x = try input(0)
            return [Inferred(TensorType(.int64, [.fixed(x.type.rank)]), x.type.shape)]
        case .reduce(_, let axes, let keep):
            let x = try input(0)
            let norm = axes.compactMap { normalize($0, x.type.rank) }
            guard norm.count == axes.count else { throw fail("axes \(axes) out of range") }
            var shape: [Dim] = []
            for (i, d) in x.type.shape.enumerated() {
                if norm.contains(i) { if keep { shape.append(1) } } else { shape.append(d) }
            }
            return [Inferred(TensorType(x.type.dtype, shape))]
        case .expand:
            let x = try input(0)
            guard let target = dims(1) else { throw fail("target shape is not known") }
            return [Inferred(TensorType(x.type.dtype, try broadcast(x.type.shape, target, fail)))]
        }
    }

    /// Reads a small int64 constant as Swift ints (nil for other types or big tensors).
    public static func int64Contents(_ data: TensorData) -> [Int]? {
        guard data.dtype == .int64, data.elementCount <= 64, let bytes = data.inlineBytes else { return nil }
        return stride(from: 0, to: bytes.count, by: 8).map { i in
            var v: Int64 = 0
            for k in 0..<8 { v |= Int64(bytes[i + k]) << (8 * k) }
            return Int(v)
        }
    }

    static func normalize(_ axis: Int, _ rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return (0..<max(rank, 0)).contains(a) ? a : nil
    }

    /// Two dims that may be equal at run time.
    static func compatible(_ a: Dim, _ b: Dim) -> Bool {
        if !a.isKnown || !b.isKnown { return true }
        if let x = a.fixedValue, let y = b.fixedValue { return x == y }
        return a == b || a.fixedValue == nil || b.fixedValue == nil
    }

    static func broadcast(_ a: [Dim], _ b: [Dim], _ fail: (String) -> ExportError) throws -> [Dim] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: Dim.fixed(1), count: rank - a.count) + a
        let pb = Array(repeating: Dim.fixed(1), count: rank - b.count) + b
        return try zip(pa, pb).map { x, y in
            if x == y { return x }
            if x.fixedValue == 1 { return y }
            if y.fixedValue == 1 { return x }
            if !x.isKnown { return y }
            if !y.isKnown { return x }
            if let p = x.fixedValue, let q = y.fixedValue, p != q { throw fail("cannot broadcast \(a) with \(b)") }
            // Two different symbols (or a symbol and a number) can only agree at run time.
            return x.fixedValue != nil ? x : y
        }
    }

    static func reshape(_ input: [Dim], _ target: [Int], _ fail: (String) -> ExportError) throws -> [Dim] {
        guard target.filter({ $0 == -1 }).count <= 1 else { throw fail("more than one -1 in \(target)") }
        var out: [Dim] = []
        for (i, t) in target.enumerated() {
            switch t {
            case 0:
                guard i < input.count else { throw fail("0 at position \(i) but the input has rank \(input.count)") }
                out.append(input[i])
            case -1: out.append(.unknown)
            case let n where n > 0: out.append(.fixed(n))
            default: throw fail("invalid target size \(t)")
            }
        }
        guard let hole = target.firstIndex(of: -1) else {
            // No -1: the element counts must agree wherever both sides are known.
            let symbolsIn = input.filter { $0.fixedValue == nil }, symbolsOut = out.filter { $0.fixedValue == nil }
            if !symbolsIn.contains(where: { !$0.isKnown }), symbolsIn.sorted(by: { $0.description < $1.description }) == symbolsOut.sorted(by: { $0.description < $1.description }) {
                let fixedIn = input.compactMap(\.fixedValue).reduce(1, *), fixedOut = out.compactMap(\.fixedValue).reduce(1, *)
                guard fixedIn == fixedOut else { throw fail("cannot reshape \(input) to \(target): \(fixedIn) elements per \(symbolsIn) become \(fixedOut)") }
            }
            return out
        }
        // Solve the -1: cancel symbolic dims the output keeps, divide the fixed parts.
        var symbolic = input.filter { $0.fixedValue == nil }
        var fixedIn = input.compactMap(\.fixedValue).reduce(1, *)
        var fixedOut = 1
        for (i, d) in out.enumerated() where i != hole {
            if let v = d.fixedValue { fixedOut *= v; continue }
            if let j = symbolic.firstIndex(of: d) { symbolic.remove(at: j) } else { return out }
        }
        if symbolic.contains(where: { !$0.isKnown }) { return out }
        guard fixedOut != 0 else { return out }
        if symbolic.isEmpty {
            guard fixedIn % fixedOut == 0 else { throw fail("cannot reshape \(input) to \(target)") }
            out[hole] = .fixed(fixedIn / fixedOut)
        } else if symbolic.count == 1, fixedIn % fixedOut == 0 {
            out[hole] = symbolic[0] * (fixedIn / fixedOut)
        } else if symbolic.count == 1, fixedOut % fixedIn == 0 {
            fixedIn = fixedOut / fixedIn
            out[hole] = symbolic[0].divided(by: fixedIn)
        }
        return out
    }

    static func sliceLength(dim: Dim, start: Int, end: Dim) -> Dim {
        let big = 1 << 62
        if let e = end.fixedValue, let d = dim.fixedValue {
            let s = start < 0 ? max(0, start + d) : min(start, d)
            let f = e < 0 ? max(0, e + d) : min(e, d)
            return .fixed(max(0, f - s))
        }
        if let e = end.fixedValue, e >= big / 2, start >= 0 { return dim - .fixed(start) }
        if end.fixedValue == nil, start >= 0 { return end - .fixed(start) }
        return .unknown
    }

    static func elementwise(_ op: Op, _ a: [Dim]?, _ b: [Dim]?) -> [Dim]? {
        guard let a, let b, a.count == b.count || a.count == 1 || b.count == 1 else { return nil }
        let n = max(a.count, b.count)
        return (0..<n).map { i in
            let x = a[a.count == 1 ? 0 : i], y = b[b.count == 1 ? 0 : i]
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mul: return x * y
            default: return .unknown
            }
        }
    }
}
