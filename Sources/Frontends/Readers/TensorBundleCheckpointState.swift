import Foundation
import ONNXExportIR

/// The `checkpoint` file TF1's `Saver` writes beside its bundles: a text-format
/// `CheckpointState` whose `model_checkpoint_path: "model.ckpt"` names the latest one.
///
/// Released checkpoints often carry the path they had on the machine that trained them
/// (`/home/.../model.ckpt-100000`), so a path that does not exist is also tried as a name in the
/// folder itself, which is what a user who downloaded the folder means.
enum TensorBundleCheckpointState {
    /// A state file lists a few paths; anything larger is not one.
    static let maximumFileSize = 1 << 20

    /// The prefix the `checkpoint` file names, if there is such a file and its bundle is here.
    static func latestPrefix(in folder: String) throws -> String? {
        let statePath = TensorBundleReader.path(of: TensorBundleReader.checkpointStateFile, in: folder)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: statePath, isDirectory: &isFolder), !isFolder.boolValue else { return nil }
        let file = try ReadOnlyFile(path: statePath)
        guard file.size <= maximumFileSize else {
            throw ExportError("\(statePath): is \(file.size) bytes; a TensorFlow 'checkpoint' state file lists a few paths")
        }
        let text = String(decoding: try file.readBytes(at: 0, count: file.size), as: UTF8.self)
        guard let named = modelCheckpointPath(in: text) else {
            throw ExportError("\(statePath): has no model_checkpoint_path line; expected model_checkpoint_path: \"<name>\"")
        }
        var candidates = [named.hasPrefix("/") ? named : TensorBundleReader.path(of: named, in: folder)]
        if let base = named.split(separator: "/").last.map(String.init), !base.isEmpty {
            candidates.append(TensorBundleReader.path(of: base, in: folder))
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + TensorBundleReader.indexExtension) }
    }

    /// The quoted value of the first `model_checkpoint_path:` line (C escapes `\"`, `\\` undone).
    static func modelCheckpointPath(in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("model_checkpoint_path") else { continue }
            var rest = trimmed.dropFirst("model_checkpoint_path".count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == ":" else { continue }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            guard let quote = rest.first, quote == "\"" || quote == "'" else { continue }
            var value = ""
            var escaped = false
            for character in rest.dropFirst() {
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == quote {
                    return value
                } else {
                    value.append(character)
                }
            }
            return nil
        }
        return nil
    }
}
