import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// What `onnx-export convert` does: an original checkpoint (Google's TensorFlow BERT or ALBERT,
/// OpenAI's GPT-2 TensorFlow checkpoint or GPT numpy parameters) rewritten as a folder that transformers'
/// `from_pretrained` loads — `config.json` in transformers' form and the weights under
/// transformers' names and layouts — without TensorFlow or PyTorch.
public struct ConvertOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable { case safetensors, pytorch }

    /// The architecture (`bert`, `albert`, `gpt2`, `openai-gpt`); original configs do not name it.
    public var modelType: String
    /// A TensorFlow checkpoint prefix (`.../bert_model.ckpt`), or a folder holding the checkpoint.
    public var checkpoint: String
    /// The original config (`bert_config.json`, `albert_config.json`, `hparams.json`) when it is not
    /// beside the checkpoint.
    public var configFile: String? = nil
    public var outputFolder: String
    public var format: Format = .safetensors
    public var force = false

    public init(modelType: String, checkpoint: String, outputFolder: String) {
        self.modelType = modelType; self.checkpoint = checkpoint; self.outputFolder = outputFolder
    }
}

public struct ConvertReport: Sendable {
    public var files: [String]
    public var tensorCount: Int
    public var weightBytes: Int
    public var sourceFormat: String
    public var seconds: Double
}

public enum Converter {
    public static func convert(_ options: ConvertOptions) throws -> ConvertReport {
        let started = Date()
        let folder = checkpointFolder(options.checkpoint)
        let createdFolder = try Exporter.checkOutputFolder(options.outputFolder, force: options.force)
        let checkpoint = try Checkpoint(folder: folder, configFile: options.configFile, modelType: options.modelType)
        // Build the model once: a missing or misshapen weight fails here, before anything is written.
        let entry = try ArchitectureRegistry.entry(for: checkpoint.modelType, origin: checkpoint.config.origin)
        _ = try entry.make(checkpoint.config, checkpoint.weights).graph(for: .featureExtraction, name: "check")

        var files: [String] = []
        do {
            if createdFolder { try Exporter.createFolder(options.outputFolder) }
            let weightsName = options.format == .safetensors ? "model.safetensors" : "pytorch_model.bin"
            let target = (options.outputFolder as NSString).appendingPathComponent(weightsName)
            let temporary = (options.outputFolder as NSString).appendingPathComponent(".\(weightsName).tmp-\(getpid())")
            do {
                switch options.format {
                case .safetensors: try SafetensorsWriter.write(checkpoint.weights.tensors, to: temporary)
                case .pytorch: try PyTorchWriter.write(checkpoint.weights.tensors, to: temporary)
                }
                try moveIntoPlace(temporary, target)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            files.append(target)
            files += try CompanionFiles.write(config: checkpoint.config, from: folder, to: options.outputFolder)
        } catch {
            if createdFolder { try? FileManager.default.removeItem(atPath: options.outputFolder) }
            throw error
        }
        return ConvertReport(files: files, tensorCount: checkpoint.weights.tensors.count,
                             weightBytes: checkpoint.weights.tensors.values.reduce(0) { $0 + $1.byteCount },
                             sourceFormat: checkpoint.format.description, seconds: Date().timeIntervalSince(started))
    }

    /// `--tf-checkpoint` may name a prefix (`model.ckpt`, whose files are `model.ckpt.index` ...)
    /// or the folder itself.
    static func checkpointFolder(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    static func moveIntoPlace(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            throw ExportError("\(to): cannot move the finished file into place (\(String(cString: strerror(errno))))")
        }
    }
}
