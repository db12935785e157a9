import Foundation
import ONNXExportIR

/// A function of the signed distance between two positions that is constant beyond ±`limit`,
/// tabulated at export for every distance in `[−limit, limit]`: the graph clamps the distances
/// of the input's length and looks them up, so one export serves every sequence length.
///
/// Why a table rather than the `log` arithmetic in the graph: bucket boundaries fall on exact
/// float32 values (MPNet's distance 16 is `8 + log(2) / log(16) · 8 = 10` exactly), where a
/// runtime's vectorised `log` that is one ulp low puts the distance in the bucket below. The
/// tables are computed with correctly rounded float32 steps, the results transformers' own
/// float32 arithmetic gives (checked against torch for every distance to ±3000).
public struct RelativePositionTable: Sendable, Equatable {
    public let limit: Int
    /// `values[d + limit]` for the distance `d`.
    public let values: [Int64]

    /// The largest table built; a config that needs more (a hostile `max_relative_positions`)
    /// is refused instead of allocating it.
    public static let maximumLimit = 1 << 20

    init(limit: Int, _ value: (Int) -> Int) {
        self.limit = limit
        values = (-limit...limit).map { Int64(value($0)) }
    }

    /// A float32 `log` rounded once from the exact value, as correctly rounded float32
    /// arithmetic gives it.
    static func log32(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }

    /// T5's `_relative_position_bucket` (MPNet's `relative_position_bucket` is its bidirectional
    /// form) for the distance `key − query`: bidirectional, half the buckets for keys after the
    /// query; distances below `buckets / 4` (`/ 2` causal) are their own bucket, longer ones share
    /// log-spaced buckets up to `maxDistance`, beyond which the last bucket is used.
    public static func t5(bidirectional: Bool, buckets: Int, maxDistance: Int, origin: String) throws -> RelativePositionTable {
        let half = bidirectional ? buckets / 2 : buckets
        let exact = half / 2
        guard exact > 0, maxDistance > exact, maxDistance <= maximumLimit else {
            throw ExportError("\(origin): relative position buckets need max distance \(maxDistance) above \(exact) (the exact buckets of \(buckets)) and at most \(maximumLimit)")
        }
        let logRange = Float(Foundation.log(Double(maxDistance) / Double(exact)))
        func bucket(ofDistance n: Int) -> Int {
            guard n >= exact else { return n }
            let scaled = log32(Float(n) / Float(exact)) / logRange * Float(half - exact)
            return min(exact + Int(scaled), half - 1)
        }
        return RelativePositionTable(limit: maxDistance) { d in
            bidirectional ? (d > 0 ? half : 0) + bucket(ofDistance: abs(d)) : bucket(ofDistance: max(-d, 0))
        }
    }

    /// DeBERTa-v2's relative position `query − key` as an index into its `2 · span` relative
    /// embeddings: `make_log_bucket_position` when `bucketSize > 0` (distances up to half the
    /// buckets kept, longer ones log-spaced up to `maxPosition`), shifted by `span` and clamped to
    /// `[0, 2·span − 1]` as `disentangled_attention_bias` does. The bucket is odd in the distance,
    /// so the position-to-content index (`−bucket + span`) is this table at `−d`: the transpose.
    public static func deberta(bucketSize: Int, maxPosition: Int, span: Int, origin: String) throws -> RelativePositionTable {
        let bucket: (Int) -> Int
        let limit: Int
        if bucketSize > 0 {
            let mid = bucketSize / 2
            guard mid > 0, maxPosition - 1 > mid else {
                throw ExportError("\(origin): position_buckets \(bucketSize) needs max_relative_positions above \(mid + 1) (it is \(maxPosition)); the log buckets would not grow with the distance")
            }
            let logRange = log32(Float(Double(maxPosition - 1) / Double(mid)))
            bucket = { d in
                let a = abs(d)
                guard a > mid else { return d }
                let scaled = log32(Float(a) / Float(mid)) / logRange * Float(mid - 1)
                return (Int(scaled.rounded(.up)) + mid) * (d > 0 ? 1 : -1)
            }
            // The first distance whose bucket lies past the embeddings: every longer one clamps alike.
            var reach = mid + 1
            while abs(bucket(reach)) < span {
                reach += 1
                guard reach <= maximumLimit else {
                    throw ExportError("\(origin): max_relative_positions \(maxPosition) is too large: the relative position table would pass \(maximumLimit) entries")
                }
            }
            limit = reach
        } else {
            guard span <= maximumLimit else {
                throw ExportError("\(origin): max_relative_positions \(span) is too large: the relative position table would pass \(maximumLimit) entries")
            }
            bucket = { $0 }
            limit = span
        }
        return RelativePositionTable(limit: limit) { d in min(max(bucket(d) + span, 0), 2 * span - 1) }
    }
}

extension GraphBuilder {
    /// `table(key − query)` (or `query − key`) for every pair of positions of a sequence of
    /// `length` (an int64 scalar): `[S, S]` int64, row = query.
    public func relativePositionLookup(_ table: RelativePositionTable, length: Value, queryMinusKey: Bool, name: String) throws -> Value {
        try scope(name) {
            let positions = try node(.range, int64s([0], scalar: true), length, int64s([1], scalar: true), name: "Positions")
            return try relativePositionLookup(table, queries: positions, keys: positions, queryMinusKey: queryMinusKey)
        }
    }

    /// `table(key − query)` (or `query − key`) for the absolute positions `queries` `[Sq]` and
    /// `keys` `[Sk]` (int64): `[Sq, Sk]`. A decoder step with a cache passes queries that start
    /// at the cached length.
    public func relativePositionLookup(_ table: RelativePositionTable, queries: Value, keys: Value, queryMinusKey: Bool) throws -> Value {
        let q = try unsqueeze(queries, [1]), k = try unsqueeze(keys, [0])
        let distance = queryMinusKey ? try sub(q, k, name: "Distance") : try sub(k, q, name: "Distance")
        let low = int64s([-table.limit], scalar: true), high = int64s([table.limit], scalar: true)
        let clamped = try node(.where, try node(.less, distance, low), low,
                               try node(.where, try node(.greater, distance, high), high, distance), name: "ClampDistance")
        let index = try add(clamped, high, name: "TableIndex")
        return try embed(index, literal(.int64(table.values)), name: "Lookup")
    }
}
