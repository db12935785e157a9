import Foundation
import ONNXExportIR

/// Opens a sharded safetensors checkpoint from its index.
///
/// The index's `weight_map` is the checkpoint's table of contents: the store holds exactly the
/// tensors it lists, each taken from the shard it names. A shard that is missing, or that lacks a
/// tensor the index promises, is an error naming the index, the shard and the tensor, since
/// either means a partial download or a hand-edited folder.
enum SafetensorsShards {
    static func open(index: SafetensorsIndex, folder: String) throws -> WeightStore {
        let shardNames = index.shardNames
        // Check every shard exists before parsing any, so a partial download fails fast.
        for shard in shardNames {
            let shardPath = SafetensorsReader.path(of: shard, in: folder)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                let example = index.weightMap.first { $0.shard == shard }?.tensor ?? ""
                throw ExportError("\(index.path): \"weight_map\" names shard '\(shard)' (for tensor '\(example)' and perhaps others),"
                    + " but \(shardPath) does not exist; is the download incomplete?")
            }
        }

        var tensorsOfShard: [String: [String: TensorData]] = [:]
        for shard in shardNames {
            tensorsOfShard[shard] = try SafetensorsFile.readTensors(atPath: SafetensorsReader.path(of: shard, in: folder))
        }

        var tensors: [String: TensorData] = [:]
        tensors.reserveCapacity(index.weightMap.count)
        for (name, shard) in index.weightMap {
            guard let tensor = tensorsOfShard[shard]?[name] else {
                throw ExportError("\(index.path): \"weight_map\" puts tensor '\(name)' in shard '\(shard)',"
                    + " but \(SafetensorsReader.path(of: shard, in: folder)) has no tensor of that name")
            }
            tensors[name] = tensor
        }
        return WeightStore(origin: index.path, tensors: tensors)
    }
}
