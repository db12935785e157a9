import Foundation
import ONNXExportIR

/// Reads PyTorch `torch.save` checkpoints (`pytorch_model.bin`: the zip format of torch ≥ 1.6, and
/// the legacy stream of pickles before it) without PyTorch and without executing anything.
///
/// The pickle (the archive's `data.pkl`, or the legacy file's object pickle) is run by a restricted
/// unpickler that knows only the globals a state_dict needs (tensor rebuild functions, storage
/// classes, dtypes, `OrderedDict`), plus NumPy arrays kept as placeholders that are never built;
/// any other global, such as `os.system`, is refused where the pickle names it. Tensors come back
/// lazy: a file region of the storage (records are stored uncompressed by torch; legacy storages
/// lie raw after the pickles), or a producer that inflates a deflated record while streaming,
/// checking its size and CRC-32.
///
/// Supported: every dense dtype the IR has (float32/16/64, bfloat16, int64/32/16/8, uint8/16/32/64,
/// bool), typed and untyped storages (`_rebuild_tensor_v2/v3`), parameters, shared storages and
/// `storage_offset`, 0-d and empty tensors, row-major views and transposed 2-D ones, Zip64.
/// Refused with a message naming the file (and tensor): the tar format of torch < 0.4, TorchScript
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

    /// The tensors of one `torch.save` file (zip or legacy), as lazy references.
    public static func read(file path: String) throws -> [String: TensorData] {
        try PyTorchSavedFile(path: path).stateDict()
    }

    /// Opens a folder's PyTorch weights, in the order transformers looks for them:
    /// `pytorch_model.bin`; else `pytorch_model.bin.index.json` and the shards its `weight_map`
    /// names; else every `*.bin` file in the folder, refusing a tensor name two of them define.
    public static func open(folder: String) throws -> WeightStore {
        try ShardedCheckpoint.open(folder: folder, fileNames) { try read(file: $0) }
    }

    /// True if the folder holds these weights (for format detection). Reads no file.
    public static func recognizes(folder: String) -> Bool {
        (try? layout(of: folder)) != nil
    }

    static let fileNames = ShardedCheckpoint.FileNames(single: singleFileName, index: indexFileName, fileExtension: fileExtension, notWeights: nonWeightFiles, formatName: "PyTorch")
    typealias Layout = ShardedCheckpoint.Layout

    /// The folder's layout, or nil if it holds no such weights; an error if it is not a folder.
    static func layout(of folder: String) throws -> Layout? {
        try ShardedCheckpoint.layout(of: folder, fileNames)
    }

    static func path(of name: String, in folder: String) -> String { ShardedCheckpoint.path(of: name, in: folder) }
}
