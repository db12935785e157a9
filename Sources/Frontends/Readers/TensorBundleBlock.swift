/// The entries of one LevelDB-format table block, as TensorFlow's `.index` file stores them
/// (`tensorflow/core/lib/io/block_builder.cc`).
///
/// A block is a run of entries `varint32 shared, varint32 non_shared, varint32 value_length,
/// key_delta, value`, where each key is the first `shared` bytes of the previous key followed by
/// `key_delta`; then `uint32` restart offsets (entries stored with `shared == 0`, which make
/// binary search possible) and their count. This reader walks the entries in order and needs the
/// restarts only to find where the entries end, but it checks them, since a wrong count is the
/// first sign of a corrupt block.
struct TensorBundleBlock {
    struct Entry {
        var key: [UInt8]
        var value: ArraySlice<UInt8>
    }

    /// Decodes `contents` (the block without its 5-byte trailer). Keys must strictly ascend, as
    /// the table format requires; `previousKey` carries the order across blocks.
    static func entries(_ contents: [UInt8], after previousKey: [UInt8]? = nil) throws -> [Entry] {
        guard contents.count >= 4 else {
            throw WireFormatError("block of \(contents.count) bytes is too short to hold its restart count")
        }
        let restartCount = Int(readUInt32(contents, at: contents.count - 4))
        let maximumRestarts = (contents.count - 4) / 4
        guard restartCount <= maximumRestarts else {
            throw WireFormatError("block of \(contents.count) bytes claims \(restartCount) restart points, more than fit (\(maximumRestarts))")
        }
        let entriesEnd = contents.count - 4 - 4 * restartCount
        guard entriesEnd == 0 || restartCount > 0 else {
            throw WireFormatError("block holds \(entriesEnd) bytes of entries but no restart point; expected at least one")
        }
        for i in 0..<restartCount {
            let restart = Int(readUInt32(contents, at: entriesEnd + 4 * i))
            guard restart < max(entriesEnd, 1) else {
                throw WireFormatError("restart point \(i) is at byte \(restart), outside the \(entriesEnd) bytes of entries")
            }
        }

        var reader = ProtoWireReader(contents[0..<entriesEnd])
        var result: [Entry] = []
        // Prefix compression restarts in every block; the order check spans blocks.
        var key: [UInt8] = []
        var lastKey = previousKey
        while !reader.isAtEnd {
            let start = reader.offset
            let shared = try reader.readNonNegativeInt("shared key length")
            let unshared = try reader.readNonNegativeInt("key length")
            let valueLength = try reader.readNonNegativeInt("value length")
            guard shared <= key.count else {
                throw WireFormatError("entry at byte \(start) shares \(shared) bytes with a previous key of \(key.count) bytes")
            }
            let keyDelta = try reader.readBytes(unshared, what: "key of the entry at byte \(start)")
            let value = try reader.readBytes(valueLength, what: "value of the entry at byte \(start)")
            let newKey = Array(key.prefix(shared)) + keyDelta
            if let lastKey, !lastKey.lexicographicallyPrecedes(newKey) {
                throw WireFormatError("keys are out of order: \(describe(newKey)) follows \(describe(lastKey)); table keys must strictly ascend")
            }
            key = newKey
            lastKey = newKey
            result.append(Entry(key: newKey, value: value))
        }
        return result
    }

    static func readUInt32<C: RandomAccessCollection>(_ bytes: C, at offset: Int) -> UInt32 where C.Element == UInt8, C.Index == Int {
        let base = bytes.startIndex + offset
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[base + $1]) << (8 * UInt32($1)) }
    }

    /// A key as a message shows it: quoted UTF-8, or hex when it is not text.
    static func describe(_ key: [UInt8]) -> String {
        if let text = String(validating: key, as: UTF8.self), !text.utf8.contains(where: { $0 < 0x20 }) {
            return "'\(text)'"
        }
        return "bytes " + key.prefix(32).map(hex).joined() + (key.count > 32 ? "…" : "")
    }

    private static func hex(_ byte: UInt8) -> String {
        (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}
