import Foundation
import ONNXExportIR

/// Reads safetensors checkpoints: one file, a sharded folder, or a folder of loose files.
///
/// Only headers are read. Every tensor comes back as a `TensorData` that refers to its byte range
/// (absolute file offsets), checked to lie inside its file, so the serializer can stream weights
/// without this reader ever holding them.
///
/// ```swift
/// let store = try SafetensorsReader.open(folder: "checkpoints/bert-base-uncased")
/// let embeddings = try store.require("bert.embeddings.word_embeddings.weight")
/// ```
public enum SafetensorsReader {
    /// The single-file name transformers saves (`SAFE_WEIGHTS_NAME`).
    static let singleFileName = "model.safetensors"
    static let fileExtension = ".safetensors"

    /// Reads the header of one .safetensors file and returns lazy tensors (nothing of the data is read).
    ///
    /// Errors name the file and, for a bad entry, the tensor: a truncated file, a header length
    /// past the end of the file, a header that is not a JSON object, an unsupported dtype, a byte
    /// count that disagrees with dtype and shape, offsets outside the data buffer, duplicate names.
    public static func read(file path: String) throws -> [String: TensorData] {
        try SafetensorsFile.readTensors(atPath: path)
    }

    /// Opens the weights of a checkpoint folder, trying in the order transformers does:
    /// `model.safetensors`; else `model.safetensors.index.json` and the shards its `weight_map`
    /// names (each shard must exist and hold the tensors listed for it); else every `*.safetensors`
    /// file in the folder, refusing a tensor name that two of them define.
    public static func open(folder: String) throws -> WeightStore {
        switch try layout(of: folder) {
        case .singleFile(let path):
            return WeightStore(origin: path, tensors: try read(file: path))
        case .sharded(let indexPath):
            return try ShardedCheckpoint.open(index: try SafetensorsIndex(path: indexPath), folder: folder) { try SafetensorsFile.readTensors(atPath: $0) }
        case .looseFiles(let paths):
            return WeightStore(origin: folder, tensors: try ShardedCheckpoint.mergeLooseFiles(paths, folder: folder, indexFileName: SafetensorsIndex.fileName) { try SafetensorsFile.readTensors(atPath: $0) })
        case nil:
            throw ExportError("\(folder): holds no safetensors weights; expected \(singleFileName),"
                + " \(SafetensorsIndex.fileName) with its shards, or *\(fileExtension) files")
        }
    }

    /// True if the folder holds safetensors weights (for format detection). Reads no file.
    public static func recognizes(folder: String) -> Bool {
        (try? layout(of: folder)) != nil
    }

    /// How a folder stores its safetensors weights.
    enum Layout: Equatable {
        case singleFile(String)
        case sharded(indexPath: String)
        case looseFiles([String])
    }

    /// The folder's layout, or nil if it holds no safetensors files; an error if it is not a folder.
    static func layout(of folder: String) throws -> Layout? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isFolder.boolValue else {
            throw ExportError("\(folder): is a file, expected a checkpoint folder")
        }
        let single = path(of: singleFileName, in: folder)
        if FileManager.default.fileExists(atPath: single) { return .singleFile(single) }
        let index = path(of: SafetensorsIndex.fileName, in: folder)
        if FileManager.default.fileExists(atPath: index) { return .sharded(indexPath: index) }

        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ExportError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        // Hidden files are skipped: `._model.safetensors` is macOS metadata, not weights.
        let files = names.filter { $0.hasSuffix(fileExtension) && !$0.hasPrefix(".") }
            .sorted()
            .map { path(of: $0, in: folder) }
            .filter { isRegularFile($0) }
        return files.isEmpty ? nil : .looseFiles(files)
    }

    static func path(of name: String, in folder: String) -> String { ShardedCheckpoint.path(of: name, in: folder) }
    private static func isRegularFile(_ path: String) -> Bool { ShardedCheckpoint.isRegularFile(path) }
}
