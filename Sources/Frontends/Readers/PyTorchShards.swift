import Foundation
import ONNXExportIR

/// Opens a sharded PyTorch checkpoint from `pytorch_model.bin.index.json`.
///
/// The index has the same shape as safetensors' (`{"metadata": ..., "weight_map": {tensor: shard}}`),
/// so it is parsed by `SafetensorsIndex`, which also refuses shard names that could leave the
/// folder. As there, the store holds exactly the tensors the index lists, each from the shard it
/// names; a missing shard, or a shard without a promised tensor, is an error naming both.
enum PyTorchShards {
    static func open(index: SafetensorsIndex, folder: String) throws -> WeightStore {
        let shardNames = index.shardNames
        // Check every shard exists before reading any, so a partial download fails fast.
        for shard in shardNames {
            let shardPath = PyTorchReader.path(of: shard, in: folder)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                let example = index.weightMap.first { $0.shard == shard }?.tensor ?? ""
                throw ExportError("\(index.path): \"weight_map\" names shard '\(shard)' (for tensor '\(example)' and perhaps others),"
                    + " but \(shardPath) does not exist; is the download incomplete?")
            }
        }
        var tensorsOfShard: [String: [String: TensorData]] = [:]
        for shard in shardNames {
            tensorsOfShard[shard] = try PyTorchReader.read(file: PyTorchReader.path(of: shard, in: folder))
        }
        var tensors: [String: TensorData] = [:]
        tensors.reserveCapacity(index.weightMap.count)
        for (name, shard) in index.weightMap {
            guard let tensor = tensorsOfShard[shard]?[name] else {
                throw ExportError("\(index.path): \"weight_map\" puts tensor '\(name)' in shard '\(shard)',"
                    + " but \(PyTorchReader.path(of: shard, in: folder)) has no tensor of that name")
            }
            tensors[name] = tensor
        }
        return WeightStore(origin: index.path, tensors: tensors)
    }
}
