import Foundation

/// Scales and zero points computed while a quantized matrix's packed values streamed, kept for
/// the two small tensors written after them, so a weight is read and quantized once instead of
/// three times (about a second on a 3 GB checkpoint).
///
/// A part asked for while the packed values of the same matrix are being computed on another
/// thread (the prefetcher works one tensor ahead) waits for them. An entry goes once each of its
/// parts was taken; memory stays under `limit` by dropping the oldest entries, whose parts are
/// then recomputed from the source if asked for: the cache saves time, never changes bytes.
final class BlockParameterCache: @unchecked Sendable {
    static let shared = BlockParameterCache()

    struct Key: Hashable {
        var source: TensorData
        var quantization: BlockQuantization
        var scaleType: DataType
    }

    private struct Entry {
        var parameters: BlockParameters
        var remaining: Set<BlockQuantization.Part>
    }

    let limit: Int
    private let condition = NSCondition()
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var bytes = 0
    private var packing: [Key: Int] = [:]

    init(limit: Int = 128 << 20) { self.limit = limit }

    /// Marks `key`'s packed values as being computed: parts asked for meanwhile wait.
    func beginPacking(_ key: Key) {
        condition.lock()
        packing[key, default: 0] += 1
        condition.unlock()
    }

    /// Ends `beginPacking`, keeping `parameters` (nil when the computation failed) for the parts.
    func endPacking(_ key: Key, leaving parameters: BlockParameters?) {
        condition.lock()
        if let parameters { insert(parameters, for: key, remaining: Self.parts(key)) }
        packing[key, default: 1] -= 1
        if packing[key] == 0 { packing[key] = nil }
        condition.broadcast()
        condition.unlock()
    }

    /// `part` of `key` if it is kept (after waiting for a computation under way), marked taken.
    func take(_ part: BlockQuantization.Part, of key: Key) -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while packing[key] != nil { condition.wait() }
        guard var entry = entries[key] else { return nil }
        entry.remaining.remove(part)
        if entry.remaining.isEmpty { remove(key) } else { entries[key] = entry }
        return entry.parameters[part]
    }

    /// Keeps parameters computed for `part` alone, for the other part to come.
    func keep(_ parameters: BlockParameters, for key: Key, taking part: BlockQuantization.Part) {
        condition.lock()
        var remaining = Self.parts(key)
        remaining.remove(part)
        if !remaining.isEmpty { insert(parameters, for: key, remaining: remaining) }
        condition.unlock()
    }

    /// Entries kept now (for tests).
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return entries.count
    }

    private static func parts(_ key: Key) -> Set<BlockQuantization.Part> {
        key.quantization.symmetric ? [.scales] : [.scales, .zeroPoints]
    }

    private func insert(_ parameters: BlockParameters, for key: Key, remaining: Set<BlockQuantization.Part>) {
        remove(key)
        guard parameters.byteCount <= limit else { return }
        entries[key] = Entry(parameters: parameters, remaining: remaining)
        order.append(key)
        bytes += parameters.byteCount
        while bytes > limit, let oldest = order.first { remove(oldest) }
    }

    private func remove(_ key: Key) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        bytes -= entry.parameters.byteCount
        order.removeAll { $0 == key }
    }
}

/// The scales and zero points of one quantized matrix, as stored.
struct BlockParameters {
    var scales: [UInt8]
    var zeroPoints: [UInt8]

    subscript(part: BlockQuantization.Part) -> [UInt8] { part == .zeroPoints ? zeroPoints : scales }
    var byteCount: Int { scales.count + zeroPoints.count }
}
