import ONNXExportIR

/// `model.safetensors.index.json`: which shard file of a sharded checkpoint holds each tensor.
///
/// The file is `{"metadata": {"total_size": ...}, "weight_map": {"tensor": "model-00001-of-00002.safetensors"}}`
/// as huggingface_hub writes it. Only `weight_map` matters here; `metadata` is ignored.
struct SafetensorsIndex {
    static let fileName = "model.safetensors.index.json"

    /// An index names one file per tensor, so even the largest models need a few megabytes;
    /// anything bigger is refused before it is read into memory.
    static let maximumFileSize = 100_000_000

    /// The index file, for error messages.
    var path: String
    /// Tensor name → shard file name, in the order the index lists them. Each shard name has been
    /// checked to be a plain file name, so joining it to the index's folder stays in that folder.
    var weightMap: [(tensor: String, shard: String)]

    /// The distinct shard names, sorted, so shards are opened (and fail) in a fixed order.
    var shardNames: [String] { Array(Set(weightMap.map(\.shard))).sorted() }

    init(path: String) throws {
        self.path = path
        let members = try Self.topLevelMembers(path: path)
        guard let map = members.first(where: { $0.key == "weight_map" })?.value else {
            throw ExportError("\(path): has no \"weight_map\"; expected {\"weight_map\": {tensor name: shard file name}}")
        }
        guard case .object(let entries) = map else {
            throw ExportError("\(path): \"weight_map\" must be an object mapping tensor names to shard file names, found \(map.kindName)")
        }
        guard !entries.isEmpty else {
            throw ExportError("\(path): \"weight_map\" is empty; expected at least one tensor")
        }
        if let repeated = OrderedJSON.duplicateKeys(in: entries).first {
            throw ExportError("\(path): \"weight_map\" lists tensor '\(repeated)' more than once")
        }
        weightMap = try entries.map { entry in
            guard case .string(let shard) = entry.value else {
                throw ExportError("\(path): \"weight_map\" entry for tensor '\(entry.key)' must be a shard file name, found \(entry.value.briefDescription)")
            }
            try Self.checkShardName(shard, tensor: entry.key, indexPath: path)
            return (entry.key, shard)
        }
    }

    /// Refuses shard names that could point outside the index's folder (`../x`, `/etc/x`, `sub/x`)
    /// or at the folder itself: a downloaded index is untrusted input, and shards always sit
    /// beside it.
    static func checkShardName(_ shard: String, tensor: String, indexPath: String) throws {
        let isPlainFileName = !shard.isEmpty && shard != "." && shard != ".."
            && !shard.contains("/") && !shard.contains("\0")
        guard isPlainFileName else {
            throw ExportError("\(indexPath): \"weight_map\" puts tensor '\(tensor)' in shard '\(shard)', which is not a plain file name;"
                + " shards must sit in the index's folder (no '/', not '.' or '..')")
        }
    }

    /// The members of the index's top-level object, with duplicate keys refused.
    private static func topLevelMembers(path: String) throws -> [OrderedJSON.Member] {
        let file = try ReadOnlyFile(path: path)
        guard file.size > 0 else {
            throw ExportError("\(path): is empty (0 bytes); expected a JSON object with a \"weight_map\"")
        }
        guard file.size <= maximumFileSize else {
            throw ExportError("\(path): is \(file.size) bytes, more than the \(maximumFileSize) an index of shard names can need")
        }
        let json: OrderedJSON
        do {
            json = try OrderedJSONParser.parse(try file.readBytes(at: 0, count: file.size))
        } catch let error as OrderedJSONSyntaxError {
            throw ExportError("\(path): is not valid JSON: \(error.detail)")
        }
        guard case .object(let members) = json else {
            throw ExportError("\(path): expected a JSON object with a \"weight_map\", found \(json.kindName)")
        }
        if let repeated = OrderedJSON.duplicateKeys(in: members).first {
            throw ExportError("\(path): key \"\(repeated)\" appears more than once")
        }
        return members
    }
}
