import Foundation
import ONNXExportIR

/// Reads TensorFlow v1-format checkpoints (tensor bundles: `<prefix>.index` plus
/// `<prefix>.data-NNNNN-of-NNNNN`), as Google's BERT and OpenAI's GPT-2 releases ship them,
/// without TensorFlow.
///
/// Only the `.index` is read when opening. Every tensor comes back as a lazy `TensorData` whose
/// bytes are checked against the CRC32C the index recorded as they stream to the output. Keys are
/// returned exactly as stored (`bert/encoder/layer_0/attention/self/query/kernel`,
/// `model/h0/attn/c_attn/w`); renaming to transformers names is the name tables' job.
///
/// ```swift
/// let store = try TensorBundleReader.open(folder: "uncased_L-12_H-768_A-12")
/// let kernel = try store.require("bert/encoder/layer_0/attention/self/query/kernel")
/// ```
public enum TensorBundleReader {
    static let indexExtension = ".index"
    /// The text file TF1's `Saver` writes beside its checkpoints, naming the latest one.
    static let checkpointStateFile = "checkpoint"

    /// The tensors of the bundle at `prefix` (the path without `.index`, e.g. `.../bert_model.ckpt`).
    ///
    /// String, resource and variant entries (`_CHECKPOINTABLE_OBJECT_GRAPH`, ...) are skipped;
    /// numeric ones, `global_step` included, are kept. Errors name the file and, for a bad entry,
    /// the tensor: a truncated or corrupt index (footer, magic, block CRC), a snappy-compressed
    /// block, a big-endian bundle, an unsupported dtype, a partitioned variable, a size that
    /// disagrees with dtype × shape, a missing shard, a range past the end of its data file.
    public static func read(prefix: String) throws -> [String: TensorData] {
        try TensorBundleFile.readTensors(prefix: prefix)
    }

    /// Opens the bundle in `folder`: the one the `checkpoint` file's `model_checkpoint_path`
    /// names if that exists here, else the folder's single `*.index`.
    public static func open(folder: String) throws -> WeightStore {
        let prefix = try self.prefix(in: folder)
        return WeightStore(origin: prefix + indexExtension, tensors: try read(prefix: prefix))
    }

    /// True if `folder` holds a `*.index` with a `.data-*` file beside it. Reads no file.
    public static func recognizes(folder: String) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return false }
        return !bundlePrefixes(among: names).isEmpty
    }

    /// The prefix of the bundle to read in `folder`.
    static func prefix(in folder: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isFolder.boolValue else {
            throw ExportError("\(folder): is a file, expected a checkpoint folder")
        }
        if let named = try TensorBundleCheckpointState.latestPrefix(in: folder) { return named }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ExportError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        let prefixes = bundlePrefixes(among: names)
        switch prefixes.count {
        case 0:
            throw ExportError("\(folder): holds no TensorFlow checkpoint; expected <name>.index with <name>.data-00000-of-NNNNN")
        case 1:
            return path(of: prefixes[0], in: folder)
        default:
            throw ExportError("\(folder): holds \(prefixes.count) TensorFlow checkpoints (\(prefixes.map { $0 + indexExtension }.joined(separator: ", ")))"
                + " and no '\(checkpointStateFile)' file naming the one to use; keep one, or add a '\(checkpointStateFile)' file"
                + " with model_checkpoint_path: \"<name>\"")
        }
    }

    /// Prefixes `p` (sorted) for which both `p.index` and some `p.data-*` are among `names`.
    static func bundlePrefixes(among names: [String]) -> [String] {
        let candidates = names.filter { $0.hasSuffix(indexExtension) && !$0.hasPrefix(".") }
            .map { String($0.dropLast(indexExtension.count)) }
        return candidates.filter { prefix in names.contains { $0.hasPrefix(prefix + ".data-") } }.sorted()
    }

    static func path(of name: String, in folder: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
