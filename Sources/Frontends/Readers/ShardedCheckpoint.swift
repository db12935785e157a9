import Foundation
import ONNXExportIR

/// What safetensors and PyTorch checkpoint folders share, whatever the file format: shards listed
/// by an index (`{"weight_map": {tensor: shard}}`), or loose files merged. `read` parses one file.
enum ShardedCheckpoint {
    /// The file names of one format's folder layout.
    struct FileNames: Sendable {
        var single: String        // model.safetensors, pytorch_model.bin
        var index: String         // model.safetensors.index.json, pytorch_model.bin.index.json
        var fileExtension: String // .safetensors, .bin
        /// Files with the extension that are not weights (the Trainer's `training_args.bin`).
        var notWeights: Set<String> = []
        var formatName: String
    }

    /// How a folder stores its weights.
    enum Layout: Equatable {
        case singleFile(String)
        case sharded(indexPath: String)
        case looseFiles([String])
    }

    /// Opens a folder in the order transformers tries: the single file; else the index and the
    /// shards its `weight_map` names; else every file with the extension, merged.
    static func open(folder: String, _ names: FileNames, read: (String) throws -> [String: TensorData]) throws -> WeightStore {
        switch try layout(of: folder, names) {
        case .singleFile(let path):
            return WeightStore(origin: path, tensors: try read(path))
        case .sharded(let indexPath):
            return try open(index: try SafetensorsIndex(path: indexPath), folder: folder, read: read)
        case .looseFiles(let paths):
            return WeightStore(origin: folder, tensors: try mergeLooseFiles(paths, folder: folder, indexFileName: names.index, read: read))
        case nil:
            throw ExportError("\(folder): holds no \(names.formatName) weights; expected \(names.single),"
                + " \(names.index) with its shards, or *\(names.fileExtension) files")
        }
    }

    /// The folder's layout, or nil if it holds none of these files; an error if it is not a folder.
    static func layout(of folder: String, _ names: FileNames) throws -> Layout? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isFolder.boolValue else { throw ExportError("\(folder): is a file, expected a checkpoint folder") }
        let single = path(of: names.single, in: folder)
        if isRegularFile(single) { return .singleFile(single) }
        let index = path(of: names.index, in: folder)
        if isRegularFile(index) { return .sharded(indexPath: index) }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ExportError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        // Hidden files are skipped: `._model.safetensors` is macOS metadata, not weights.
        let files = entries.filter { $0.hasSuffix(names.fileExtension) && !$0.hasPrefix(".") && !names.notWeights.contains($0) }
            .sorted()
            .map { path(of: $0, in: folder) }
            .filter(isRegularFile)
        return files.isEmpty ? nil : .looseFiles(files)
    }

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
