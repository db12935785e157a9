import Foundation
import ONNXExportIR

/// Reads PyTorch `torch.save` checkpoints (`pytorch_model.bin`, the zip format of torch ≥ 1.6)
/// without PyTorch and without executing anything.
///
/// The archive's `data.pkl` is run by a restricted unpickler that knows only the globals a
/// state_dict needs (tensor rebuild functions, storage classes, dtypes, `OrderedDict`); any other
/// global, such as `os.system`, is refused where the pickle names it. Tensors come back lazy:
/// a file region of the storage record (records are stored uncompressed by torch), or a producer
/// that inflates a deflated record while streaming, checking its size and CRC-32.
///
/// Supported: every dense dtype the IR has (float32/16/64, bfloat16, int64/32/16/8, uint8/16/32/64,
/// bool), typed and untyped storages (`_rebuild_tensor_v2/v3`), parameters, shared storages and
/// `storage_offset`, 0-d and empty tensors, row-major views and transposed 2-D ones, Zip64.
/// Refused with a message naming the file (and tensor): the legacy pre-1.6 format, TorchScript
/// archives, big-endian checkpoints, other views, nested checkpoints, encrypted or damaged zips.
///
/// ```swift
/// let store = try PyTorchReader.open(folder: "checkpoints/gpt2")
/// let wte = try store.require("transformer.wte.weight")
/// ```
public enum PyTorchReader {
    /// transformers' `WEIGHTS_NAME` and `WEIGHTS_INDEX_NAME`.
    static let singleFileName = "pytorch_model.bin"
    static let indexFileName = "pytorch_model.bin.index.json"
    static let fileExtension = ".bin"
    /// `.bin` files transformers' Trainer writes beside the weights that are not weights (a
    /// pickled `TrainingArguments`, which the unpickler would rightly refuse).
    static let nonWeightFiles: Set<String> = ["training_args.bin"]

    /// The tensors of one `torch.save` archive, as lazy references.
    public static func read(file path: String) throws -> [String: TensorData] {
        try PyTorchArchive(path: path).tensors()
    }

    /// Opens a folder's PyTorch weights, in the order transformers looks for them:
    /// `pytorch_model.bin`; else `pytorch_model.bin.index.json` and the shards its `weight_map`
    /// names; else every `*.bin` file in the folder, refusing a tensor name two of them define.
    public static func open(folder: String) throws -> WeightStore {
        switch try layout(of: folder) {
        case .singleFile(let path):
            return WeightStore(origin: path, tensors: try read(file: path))
        case .sharded(let indexPath):
            return try ShardedCheckpoint.open(index: try SafetensorsIndex(path: indexPath), folder: folder) { try read(file: $0) }
        case .looseFiles(let paths):
            return WeightStore(origin: folder, tensors: try ShardedCheckpoint.mergeLooseFiles(paths, folder: folder, indexFileName: indexFileName) { try read(file: $0) })
        case nil:
            throw ExportError("\(folder): holds no PyTorch weights; expected \(singleFileName), \(indexFileName) with its shards, or *\(fileExtension) files")
        }
    }

    /// True if the folder holds PyTorch weights (for format detection). Reads no file.
    public static func recognizes(folder: String) -> Bool {
        (try? layout(of: folder)) != nil
    }

    enum Layout: Equatable {
        case singleFile(String)
        case sharded(indexPath: String)
        case looseFiles([String])
    }

    /// The folder's layout, or nil if it holds no `.bin` weights; an error if it is not a folder.
    static func layout(of folder: String) throws -> Layout? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isFolder.boolValue else { throw ExportError("\(folder): is a file, expected a checkpoint folder") }
        let single = path(of: singleFileName, in: folder)
        if isRegularFile(single) { return .singleFile(single) }
        let index = path(of: indexFileName, in: folder)
        if isRegularFile(index) { return .sharded(indexPath: index) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ExportError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        // Hidden files are skipped: `._pytorch_model.bin` is macOS metadata, not weights.
        let files = names.filter { $0.hasSuffix(fileExtension) && !$0.hasPrefix(".") && !nonWeightFiles.contains($0) }
            .sorted()
            .map { path(of: $0, in: folder) }
            .filter(isRegularFile)
        return files.isEmpty ? nil : .looseFiles(files)
    }

    static func path(of name: String, in folder: String) -> String { ShardedCheckpoint.path(of: name, in: folder) }
    private static func isRegularFile(_ path: String) -> Bool { ShardedCheckpoint.isRegularFile(path) }
}
