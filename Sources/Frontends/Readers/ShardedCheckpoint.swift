import Foundation
import ONNXExportIR

/// What safetensors and PyTorch checkpoint folders share, whatever the file format: shards listed
/// by an index (`{"weight_map": {tensor: shard}}`), or loose files merged. `read` parses one file.
enum ShardedCheckpoint {
    /// The store holds exactly the tensors the index lists, each from the shard it names. A
    /// missing shard, or a shard without a promised tensor, is an error naming index, shard and
    /// tensor: either means a partial download or a hand-edited folder.
    static func open(index: SafetensorsIndex, folder: String, read: (String) throws -> [String: TensorData]) throws -> WeightStore {
        let shardNames = index.shardNames
        // Check every shard exists before parsing any, so a partial download fails fast.
        for shard in shardNames {
            let shardPath = path(of: shard, in: folder)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                let example = index.weightMap.first { $0.shard == shard }?.tensor ?? ""
                throw ExportError("\(index.path): \"weight_map\" names shard '\(shard)' (for tensor '\(example)' and perhaps others),"
                    + " but \(shardPath) does not exist; is the download incomplete?")
            }
        }
        var tensorsOfShard: [String: [String: TensorData]] = [:]
        for shard in shardNames { tensorsOfShard[shard] = try read(path(of: shard, in: folder)) }
        var tensors: [String: TensorData] = [:]
        tensors.reserveCapacity(index.weightMap.count)
        for (name, shard) in index.weightMap {
            guard let tensor = tensorsOfShard[shard]?[name] else {
                throw ExportError("\(index.path): \"weight_map\" puts tensor '\(name)' in shard '\(shard)',"
                    + " but \(path(of: shard, in: folder)) has no tensor of that name")
            }
            tensors[name] = tensor
        }
        return WeightStore(origin: index.path, tensors: tensors)
    }

    /// The tensors of all `paths`; a name defined twice is an error, since nothing says which wins.
    static func mergeLooseFiles(_ paths: [String], folder: String, indexFileName: String,
                                read: (String) throws -> [String: TensorData]) throws -> [String: TensorData] {
        var tensors: [String: TensorData] = [:]
        var fileOfTensor: [String: String] = [:]
        for path in paths {
            for (name, tensor) in try read(path) {
                if let earlier = fileOfTensor[name] {
                    throw ExportError("\(folder): tensor '\(name)' is defined in both \(earlier) and \(path);"
                        + " without \(indexFileName) there is no way to tell which one to use")
                }
                fileOfTensor[name] = path
                tensors[name] = tensor
            }
        }
        return tensors
    }

    /// `folder/name`, without doubling a trailing slash.
    static func path(of name: String, in folder: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    static func isRegularFile(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
    }
}
