import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// The files `Tests/Fixtures/make_tf_fixtures.py` wrote with TensorFlow and NumPy, and the values
/// those libraries read back from them (`expected.json` beside each checkpoint or folder).
enum TFFixtures {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tf").path

    static func path(_ relative: String) -> String { root + "/" + relative }

    struct Expected {
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    /// `expected.json` of `folder`: name → dtype, shape and the exact little-endian bytes.
    static func expected(_ folder: String) throws -> [String: Expected] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(folder + "/expected.json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        return try object.mapValues { entry in
            let dtype = try #require(entry["dtype"] as? String)
            let shape = try #require(entry["shape"] as? [Int])
            let base64 = try #require(entry["data"] as? String)
            let bytes = try #require(Data(base64Encoded: base64))
            return Expected(dtype: dtype, shape: shape, bytes: [UInt8](bytes))
        }
    }

    /// Checks every expected tensor is read with its dtype, shape and bytes, and nothing else is.
    static func expectMatches(_ tensors: [String: TensorData], _ folder: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try expected(folder)
        #expect(Set(tensors.keys) == Set(expected.keys), sourceLocation: sourceLocation)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[name] else { continue }
            #expect(tensor.dtype.description == want.dtype, "dtype of \(name)", sourceLocation: sourceLocation)
            #expect(tensor.shape == want.shape, "shape of \(name)", sourceLocation: sourceLocation)
            #expect(try tensor.materialize() == want.bytes, "bytes of \(name)", sourceLocation: sourceLocation)
        }
    }
}

/// A fresh folder under the system temp directory, removed by `remove()`.
struct TensorBundleTempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tf-reader-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    func copy(_ fixture: String, as name: String) throws {
        try FileManager.default.copyItem(atPath: TFFixtures.path(fixture), toPath: file(name))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds tensor bundles byte by byte, as TensorFlow's table and bundle writers lay them out, so
/// tests can make the cases TensorFlow itself never writes (big-endian headers, bad sizes, keys
/// out of order) with valid CRCs around them.
enum BundleBytes {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }

    static func fixed32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func field(_ number: UInt64, varint value: UInt64) -> [UInt8] { varint(number << 3) + varint(value) }
    static func field(_ number: UInt64, bytes: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes }
    static func field(_ number: UInt64, fixed32 value: UInt32) -> [UInt8] { varint(number << 3 | 5) + fixed32(value) }

    static func header(shards: UInt64 = 1, endianness: UInt64 = 0, minConsumer: UInt64? = nil) -> [UInt8] {
        var version = field(1, varint: 1)
        if let minConsumer { version += field(2, varint: minConsumer) }
        return field(1, varint: shards) + (endianness == 0 ? [] : field(2, varint: endianness)) + field(3, bytes: version)
    }

    /// A `BundleEntryProto`; `crcOf` gives the bytes whose masked CRC32C is stored.
    static func entry(dtype: UInt64 = 1, shape: [UInt64], shard: UInt64 = 0, offset: UInt64 = 0, size: UInt64,
                      crcOf bytes: [UInt8] = [], slices: Int = 0, extra: [UInt8] = []) -> [UInt8] {
        let dims = shape.flatMap { field(2, bytes: field(1, varint: $0)) }
        var out = field(1, varint: dtype) + field(2, bytes: dims)
        if shard != 0 { out += field(3, varint: shard) }
        if offset != 0 { out += field(4, varint: offset) }
        if size != 0 { out += field(5, varint: size) }
        out += field(6, fixed32: CRC32C.mask(CRC32C.checksum(bytes)))
        for _ in 0..<slices { out += field(7, bytes: field(1, bytes: [])) }
        return out + extra
    }

    /// One block: prefix-compressed entries, a restart every `restartInterval`, the restart array.
    static func block(_ entries: [(key: [UInt8], value: [UInt8])], restartInterval: Int = 16) -> [UInt8] {
        var out: [UInt8] = [], restarts: [UInt32] = [], previous: [UInt8] = []
        for (i, entry) in entries.enumerated() {
            var shared = 0
            if i % restartInterval == 0 {
                restarts.append(UInt32(out.count))
            } else {
                while shared < min(previous.count, entry.key.count) && previous[shared] == entry.key[shared] { shared += 1 }
            }
            out += varint(UInt64(shared)) + varint(UInt64(entry.key.count - shared)) + varint(UInt64(entry.value.count))
            out += entry.key[shared...] + entry.value
            previous = entry.key
        }
        if restarts.isEmpty { restarts = [0] }
        return out + restarts.flatMap(fixed32) + fixed32(UInt32(restarts.count))
    }

    /// A whole `.index` table: data blocks of `perBlock` entries, an empty metaindex, the index
    /// block and the footer, every block with its type byte and masked CRC.
    static func table(_ entries: [(key: [UInt8], value: [UInt8])], perBlock: Int = 1000, restartInterval: Int = 16) -> [UInt8] {
        var file: [UInt8] = []
        func append(_ contents: [UInt8]) -> [UInt8] {
            let handle = varint(UInt64(file.count)) + varint(UInt64(contents.count))
            file += contents + [0] + fixed32(CRC32C.mask(CRC32C.checksum(contents + [0])))
            return handle
        }
        var index: [(key: [UInt8], value: [UInt8])] = []
        var start = 0
        while start < entries.count {
            let chunk = Array(entries[start..<min(start + perBlock, entries.count)])
            index.append((chunk[chunk.count - 1].key, append(block(chunk, restartInterval: restartInterval))))
            start += perBlock
        }
        let meta = append(block([]))
        let indexHandle = append(block(index, restartInterval: 1))
        var footer = meta + indexHandle
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += fixed32(0x8b80_fb57) + fixed32(0xdb47_7524)
        return file + footer
    }

    static func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func float32(_ values: [Float]) -> [UInt8] { values.flatMap { fixed32($0.bitPattern) } }
}
