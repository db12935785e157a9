import Foundation
import ONNXExportIR

/// Turns the entries of a bundle's `.index` into lazy, CRC-checked tensors over its `.data-*`
/// shards, checking everything that can be checked without reading tensor bytes: the header
/// comes first and is little-endian, each entry's dtype, shape and byte size agree, and its range
/// lies inside a shard file that exists.
enum TensorBundleFile {
    /// `kTensorBundleVersion`: bundles whose `min_consumer` is above it need a newer reader.
    static let readerVersion: UInt64 = 1

    static func readTensors(prefix: String) throws -> [String: TensorData] {
        let indexPath = prefix + ".index"
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw ExportError("\(indexPath): no such file; a TensorFlow checkpoint at prefix '\(prefix)' needs \(indexPath) and \(prefix).data-NNNNN-of-NNNNN")
        }
        let index = try ReadOnlyFile(path: indexPath)
        let entries = try TensorBundleTable.entries(of: index)

        guard let first = entries.first, first.key.isEmpty else {
            let found = entries.first.map { "key \(TensorBundleBlock.describe($0.key))" } ?? "no entries"
            throw ExportError("\(indexPath): the first entry must be the bundle header (empty key), found \(found)")
        }
        let header: BundleHeader
        do {
            header = try BundleHeader(first.value)
        } catch let error as WireFormatError {
            throw ExportError("\(indexPath): bundle header is malformed: \(error.detail)")
        }
        try check(header, indexPath: indexPath)

        var shards = ShardFiles(prefix: prefix, count: header.shardCount)
        var tensors: [String: TensorData] = [:]
        for entry in entries.dropFirst() {
            guard let name = String(validating: entry.key, as: UTF8.self) else {
                // Keys of the pieces of a partitioned variable are binary (they start with 0);
                // the variable's own entry lists the slices and is refused below.
                if entry.key.first == 0 { continue }
                throw ExportError("\(indexPath): tensor key \(TensorBundleBlock.describe(entry.key)) is not valid UTF-8")
            }
            if let tensor = try tensor(named: name, entry.value, indexPath: indexPath, shards: &shards) {
                tensors[name] = tensor
            }
        }
        return tensors
    }

    private static func check(_ header: BundleHeader, indexPath: String) throws {
        guard header.endianness == 0 else {
            throw ExportError("\(indexPath): bundle header says the tensors are big-endian (endianness \(header.endianness));"
                + " only little-endian checkpoints are supported")
        }
        guard header.minConsumer <= readerVersion else {
            throw ExportError("\(indexPath): bundle needs a reader of version \(header.minConsumer) or newer;"
                + " this reader implements version \(readerVersion)")
        }
        guard header.shardCount > 0 else {
            throw ExportError("\(indexPath): bundle header gives num_shards 0; expected at least one .data-* file")
        }
    }

    /// The tensor for one entry, or nil for entries that are not weights (strings, resources).
    private static func tensor(named name: String, _ value: ArraySlice<UInt8>, indexPath: String,
                               shards: inout ShardFiles) throws -> TensorData? {
        let fail = { (problem: String) in ExportError("\(indexPath): tensor '\(name)': \(problem)") }
        let entry: BundleEntry
        do {
            entry = try BundleEntry(value)
        } catch let error as WireFormatError {
            throw fail("entry is malformed: \(error.detail)")
        }
        let dataType: DataType
        switch TensorBundleDType.handling(of: entry.dtype) {
        case .tensor(let type): dataType = type
        case .skip: return nil
        case .unsupported:
            throw fail("dtype \(TensorBundleDType.name(of: entry.dtype)) is not supported;"
                + " supported: float, double, half, bfloat16, int8/16/32/64, uint8/16/32/64, bool")
        }
        guard entry.sliceCount == 0 else {
            throw fail("is a partitioned variable saved in \(entry.sliceCount) slices; partitioned variables are not supported")
        }
        let expected = try byteCount(shape: entry.shape, elementSize: dataType.byteSize, fail: fail)
        guard entry.size == expected else {
            throw fail("\(dataType)\(entry.shape) needs \(expected) bytes but the entry says \(entry.size)")
        }
        guard entry.shardID < shards.count else {
            throw fail("shard_id \(entry.shardID) is outside the \(shards.count) shard(s) the header declares")
        }
        let (dataPath, dataSize) = try shards.file(entry.shardID, tensor: name, indexPath: indexPath)
        guard entry.offset <= dataSize, entry.size <= dataSize - entry.offset else {
            throw ExportError("\(dataPath): tensor '\(name)' at offset \(entry.offset) with \(entry.size) bytes runs past the end"
                + " of the file (\(dataSize) bytes), as \(indexPath) records it; is the data file truncated?")
        }
        let region = FileRegion(path: dataPath, offset: entry.offset, length: entry.size)
        let source = TensorBundleCheckedRegion(region: region, maskedCRC: entry.maskedCRC, tensorName: name, indexPath: indexPath)
        return try TensorData.produced(source, dtype: dataType, shape: entry.shape)
    }

    /// `product(shape) × elementSize`, refusing overflow: a corrupt entry may claim any shape.
    static func byteCount(shape: [Int], elementSize: Int, fail: (String) -> ExportError) throws -> Int {
        var total = elementSize
        for dimension in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("shape \(shape) holds more bytes than 64-bit arithmetic can count") }
            total = product
        }
        return total
    }
}

/// The `.data-%05d-of-%05d` files of a bundle, opened on first use so a shard no tensor uses
/// need not exist, and each stat'ed once.
struct ShardFiles {
    let prefix: String
    let count: Int
    private var sizes: [Int: Int] = [:]

    init(prefix: String, count: Int) {
        self.prefix = prefix
        self.count = count
    }

    func path(_ shard: Int) -> String {
        prefix + ".data-" + Self.padded(shard) + "-of-" + Self.padded(count)
    }

    mutating func file(_ shard: Int, tensor: String, indexPath: String) throws -> (path: String, size: Int) {
        let path = path(shard)
        if let size = sizes[shard] { return (path, size) }
        let size: Int
        do {
            size = try ReadOnlyFile(path: path).size
        } catch let error as ExportError {
            throw ExportError("\(indexPath): tensor '\(tensor)' is in shard \(shard), but its data file cannot be opened: \(error.message)")
        }
        sizes[shard] = size
        return (path, size)
    }

    private static func padded(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}
