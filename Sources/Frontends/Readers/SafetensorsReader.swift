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
        try ShardedCheckpoint.open(folder: folder, fileNames) { try SafetensorsFile.readTensors(atPath: $0) }
    }

    /// True if the folder holds these weights (for format detection). Reads no file.
    public static func recognizes(folder: String) -> Bool {
        (try? layout(of: folder)) != nil
    }

    static let fileNames = ShardedCheckpoint.FileNames(single: singleFileName, index: SafetensorsIndex.fileName, fileExtension: fileExtension, formatName: "safetensors")
    typealias Layout = ShardedCheckpoint.Layout

    /// The folder's layout, or nil if it holds no such weights; an error if it is not a folder.
    static func layout(of folder: String) throws -> Layout? {
        try ShardedCheckpoint.layout(of: folder, fileNames)
    }

    static func path(of name: String, in folder: String) -> String { ShardedCheckpoint.path(of: name, in: folder) }
}
