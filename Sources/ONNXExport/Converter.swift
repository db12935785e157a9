import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// What `onnx-export convert` does: an original checkpoint (Google's TensorFlow BERT or ALBERT,
/// OpenAI's GPT-2 TensorFlow checkpoint or GPT numpy parameters, facebookresearch/XLM's `.pth`
/// files, Mesh TensorFlow T5 checkpoints, XLNet's and Transformer-XL's TensorFlow checkpoints) rewritten as a folder that transformers'
/// `from_pretrained` loads — `config.json` in transformers' form and the weights under
/// transformers' names and layouts — without TensorFlow or PyTorch.
public struct ConvertOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable { case safetensors, pytorch }

    /// The architecture (`bert`, `albert`, `gpt2`, `openai-gpt`, `xlm`, `t5`, `mt5`, `xlnet`,
    /// `transfo-xl`); original configs do not name it.
    public var modelType: String
    /// A TensorFlow checkpoint prefix (`.../bert_model.ckpt`, T5's `.../model.ckpt-N`), a folder
    /// holding the checkpoint, or XLM's `.pth` file.
    public var checkpoint: String
    /// The original config (`bert_config.json`, `albert_config.json`, `hparams.json`,
    /// `xlnet_config.json`) when it is not beside the checkpoint; a transformers config for T5 and
    /// Transformer-XL.
    public var configFile: String? = nil
    /// XLNet only: the task a checkpoint was fine-tuned on (a GLUE task: sequence classification
    /// with its label count; `squad`: question answering), as transformers' `--finetuning_task`.
    public var finetuningTask: String? = nil
    public var outputFolder: String
    public var format: Format = .safetensors
    public var force = false
    /// Called about 4 times a second while the weights are written, and once at the end, as
    /// `ExportOptions.progress` is.
    public var progress: (@Sendable (ExportProgress) -> Void)? = nil
    /// Seconds between progress reports (tests shorten it).
    var progressInterval = 0.25

    public init(modelType: String, checkpoint: String, outputFolder: String) {
        self.modelType = modelType; self.checkpoint = checkpoint; self.outputFolder = outputFolder
    }
}

public struct ConvertReport: Sendable {
    public var files: [String]
    public var tensorCount: Int
    public var weightBytes: Int
    public var sourceFormat: String
    /// What the conversion left out (XLM's tensor and NumPy `params`, T5's optimizer state).
    public var notes: [String]
    public var seconds: Double
}

public enum Converter {
    /// The kinds of original checkpoints, asked in order; the folder of TensorFlow or NumPy files,
    /// which every architecture with original name tables reads, is the last resort.
    static let sources: [any ConversionSource.Type] = [XLMConversion.self, T5Conversion.self, XLNetConversion.self,
                                                        TransfoXLConversion.self, OriginalFolderConversion.self]

    public static func convert(_ options: ConvertOptions) throws -> ConvertReport {
        let started = Date()
        let createdFolder = try Exporter.checkOutputFolder(options.outputFolder, force: options.force)
        let source = sources.first { $0.handles(options) } ?? OriginalFolderConversion.self
        if options.finetuningTask != nil, !XLNetConversion.handles(options) {
            throw ExportError("--finetuning-task is used with --model-type xlnet only")
        }
        let converted = try source.read(options)
        let notes = converted.notes
        // Build the model once: a missing or misshapen weight fails here, before anything is written.
        let entry = try ArchitectureRegistry.entry(for: converted.modelType, origin: converted.config.origin)
        _ = try entry.make(converted.config, WeightStore(origin: converted.origin, tensors: converted.tensors))
            .graph(for: .featureExtraction, name: "check")

        let weightBytes = converted.tensors.values.reduce(0) { $0 + $1.byteCount }
        let reporter = ProgressReporter.start(options.progress, interval: options.progressInterval)
        var files: [String] = []
        do {
            if createdFolder { try Exporter.createFolder(options.outputFolder) }
            let weightsName = options.format == .safetensors ? "model.safetensors" : "pytorch_model.bin"
            let target = (options.outputFolder as NSString).appendingPathComponent(weightsName)
            let temporary = (options.outputFolder as NSString).appendingPathComponent(".\(weightsName).tmp-\(getpid())")
            reporter?.meter.begin(total: weightBytes, file: weightsName)
            // Stored records of a torch.save source (XLM's .pth) are CRC-checked beside the writing.
            let verifier = SourceVerifier(converted.tensors.keys.sorted().compactMap { converted.tensors[$0] })
            do {
                switch options.format {
                case .safetensors: try SafetensorsWriter.write(converted.tensors, to: temporary, meter: reporter?.meter)
                case .pytorch: try PyTorchWriter.write(converted.tensors, to: temporary, meter: reporter?.meter)
                }
                try verifier.finish()
                try moveIntoPlace(temporary, target)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            files.append(target)
            files += try converted.writeCompanions(options.outputFolder)
        } catch {
            reporter?.abandon()
            if createdFolder {
                try? FileManager.default.removeItem(atPath: options.outputFolder)
            } else {
                for file in files { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
        reporter?.finish()
        return ConvertReport(files: files, tensorCount: converted.tensors.count, weightBytes: weightBytes,
                             sourceFormat: converted.sourceFormat, notes: notes, seconds: Date().timeIntervalSince(started))
    }

    static func moveIntoPlace(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            throw ExportError("\(to): cannot move the finished file into place (\(String(cString: strerror(errno))))")
        }
    }
}
