import Foundation
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// The one entry point: checkpoint folder in, ONNX model out. The CLI is a thin shell around it.
///
/// Order matters for failure safety: everything that reads input (config, weights headers, the
/// graph, lowering) runs before anything is written, and the serializer writes under temporary
/// names it renames at the end, so a failed export leaves no file that looks like a model.
public enum Exporter {
    public static func export(_ options: ExportOptions) throws -> ExportReport {
        let started = Date()
        guard Opsets.supported.contains(options.opset) else {
            throw ExportError("opset \(options.opset) is not supported: choose one from \(Opsets.oldest) to \(Opsets.newest) (default \(Opsets.default))")
        }
        let createdFolder = try checkOutputFolder(options.outputFolder, force: options.force)

        let checkpoint = try Checkpoint(folder: options.modelFolder, configFile: options.configFile, modelType: options.modelType)
        let entry = try ArchitectureRegistry.entry(for: checkpoint.modelType, origin: checkpoint.config.origin)
        let choice = try TaskChoice(name: options.task, config: checkpoint.config, supported: entry.tasks(for: checkpoint.config))
        let task = choice.task
        guard entry.tasks.contains(task) else {
            throw ExportError("model_type \(checkpoint.modelType) does not support task \(task.rawValue); it supports \(entry.tasks.map(\.rawValue).joined(separator: ", "))")
        }
        let model = try entry.make(checkpoint.config, checkpoint.weights)
        let genaiConfig = try options.genai ? genai(model, task: task, checkpoint: checkpoint, target: options.target) : nil
        let parts = try model.parts(for: task, name: "\(checkpoint.modelType)-\(task.rawValue)", target: options.target)
        let dtype = try options.precision.dataType(for: checkpoint.weights, opset: options.opset)
        var metadata: [(key: String, value: String)] = [("model_type", checkpoint.modelType), ("task", task.rawValue), ("dtype", dtype.description)]
        if let quantization = options.quantization { metadata.append(("quantization", quantization.blocks.description)) }
        // Outputs fed back as inputs keep the narrow type: caches, and an encoder's output the decoder reads.
        let fedBack: (String) -> Bool = parts.count > 1 ? Seq2SeqTaskGraph.isFedBack
            : { DecoderTaskGraph.isFedBack($0) || MemoryTaskGraph.isFedBack($0) }
        var files: [BundleFile] = []
        var quantizedProducts = 0
        for part in parts {
            var lowered: [ONNXModelSpec] = []
            for graph in part.graphs {
                try LabelCount.require(graph, task: task, config: checkpoint.config)
                _ = try PassPipeline.run(graph)
                if options.target == .onnxruntime { FuseSkipNorms.run(graph) }
                if dtype != .float32 {
                    try ReducePrecision.run(graph, to: dtype, keepingOutputs: fedBack)
                }
                // After ReducePrecision: scales take the type the products compute in.
                if let quantization = options.quantization {
                    quantizedProducts += try QuantizeWeights.run(graph, quantization.blocks, accuracyLevel: quantization.accuracyLevel)
                }
                if dtype != .float32 || options.quantization != nil || options.target != .portable {
                    try InferShapes.run(graph)
                    try Verify.run(graph)
                }
                lowered.append(try ModelLowering.lower(graph, opset: options.opset, metadata: metadata, declaringIntermediateTypes: dtype != .float32))
            }
            switch part {
            case .graph(let fileName, _):
                files.append(BundleFile(fileName: fileName, model: lowered[0]))
            case .merged(let fileName, let condition, _, let trueLabel, let whenFalse, let falseLabel):
                files.append(BundleFile(fileName: fileName, model: try BranchMerge.merge(
                    condition: condition, whenTrue: lowered[0], trueLabel: trueLabel, whenFalse: lowered[1], falseLabel: falseLabel,
                    name: whenFalse.name)))
            }
        }

        var serializeOptions = SerializeOptions()
        // A --genai folder keeps its weights beside the graph whatever their size, as the builder's
        // do: onnxruntime then maps them instead of holding the parsed protobuf's copy too (an
        // int4 LLaMA of 210 MB peaked at 432 MB of RSS decoding from one file, 263 MB from two).
        serializeOptions.externalData = options.genai && options.externalData == .auto ? .always : options.externalData
        let reporter = ProgressReporter.start(options.progress, interval: options.progressInterval)
        serializeOptions.progress = reporter?.meter
        let written: BundleReport
        let copied: [String]
        do {
            if createdFolder { try createFolder(options.outputFolder) }
            if files.count == 1, files[0].fileName == serializeOptions.modelFileName {
                let one = try ONNXSerializer.write(files[0].model, toDirectory: options.outputFolder, options: serializeOptions)
                written = BundleReport(models: [(one.modelPath, one.modelBytes)], dataPath: one.dataPath, dataBytes: one.dataBytes,
                                       externalTensorCount: one.externalTensorCount)
            } else {
                written = try ONNXSerializer.write(bundle: files, toDirectory: options.outputFolder, options: serializeOptions)
            }
            try removeStaleModels(in: options.outputFolder, keeping: Set(files.map(\.fileName)))
            copied = try CompanionFiles.write(config: checkpoint.config, from: checkpoint.folder, to: options.outputFolder)
                + (try genaiConfig.map { [try CompanionFiles.write($0, to: (options.outputFolder as NSString).appendingPathComponent("genai_config.json"))] } ?? [])
        } catch {
            reporter?.abandon()
            if createdFolder { try? FileManager.default.removeItem(atPath: options.outputFolder) }
            throw error
        }
        reporter?.finish()

        func ports(_ values: [ONNXValueInfoSpec]) -> [ExportReport.Port] { values.map { .init(name: $0.name, type: $0.type) } }
        let reported = zip(files, written.models).map { file, model in
            ExportReport.File(path: model.path, bytes: model.bytes, inputs: ports(file.model.graph.inputs), outputs: ports(file.model.graph.outputs))
        }
        return ExportReport(
            modelType: checkpoint.modelType, task: task.rawValue, taskReason: choice.reason, opset: options.opset, dtype: dtype,
            quantization: options.quantization, quantizedProducts: quantizedProducts, irVersion: files[0].model.irVersion,
            inputs: reported[0].inputs, outputs: reported[0].outputs, files: reported,
            modelPath: reported[0].path, dataPath: written.dataPath, modelBytes: reported.reduce(0) { $0 + $1.bytes }, dataBytes: written.dataBytes,
            nodeCount: files.reduce(0) { $0 + Self.nodeCount($1.model.graph) },
            initializerCount: files.reduce(0) { $0 + $1.model.graph.initializers.count },
            copiedFiles: copied, seconds: Date().timeIntervalSince(started))
    }

    /// The task `options` export, read from the config alone (no weights are opened): the one
    /// named, or under `auto` the one config.json's `architectures` gives. A caller such as the
    /// CLI says it before a long export starts; `export` chooses the same one.
    public static func chooseTask(_ options: ExportOptions) throws -> TaskChoice {
        let config = try Checkpoint.config(folder: options.modelFolder, configFile: options.configFile, modelType: options.modelType)
        let entry = try ArchitectureRegistry.entry(for: try config.string("model_type"), origin: config.origin)
        return try TaskChoice(name: options.task, config: config, supported: entry.tasks(for: config))
    }

    /// `genai_config.json` for `--genai`, made (and refused) before anything is written.
    static func genai(_ model: ExportableModel, task: Task, checkpoint: Checkpoint, target: ExportTarget) throws -> Data {
        let type = try GenAIConfig.check(modelType: checkpoint.modelType, task: task)
        guard let decoder = model as? DecoderModel else {
            throw ExportError("--genai: \(checkpoint.modelType) is not a decoder with a KV cache")
        }
        let generationPath = (checkpoint.folder as NSString).appendingPathComponent("generation_config.json")
        let generation = FileManager.default.fileExists(atPath: generationPath) ? try ConfigReader(file: generationPath) : nil
        return try GenAIConfig.json(type: type, model: decoder, config: checkpoint.config, generation: generation, target: target)
    }

    /// Every model file name an export writes, whatever the task.
    static let modelFileNames = ["model.onnx"] + Seq2SeqTaskGraph.fileNames

    /// Removes model files an earlier export left in a folder written with `--force` that this
    /// export did not write: a stale `decoder_model_merged.onnx` beside a new two-file export
    /// would be loaded first by runtimes and read the new data file at its old offsets.
    static func removeStaleModels(in folder: String, keeping written: Set<String>) throws {
        for name in modelFileNames where !written.contains(name) {
            let path = (folder as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw ExportError("\(path): cannot remove this model file left by an earlier export (\(error.localizedDescription))")
            }
        }
    }

    /// Nodes of a graph and of the subgraphs its nodes hold.
    static func nodeCount(_ graph: ONNXGraphSpec) -> Int {
        graph.nodes.reduce(0) { total, node in
            total + 1 + node.attributes.reduce(0) { sum, a in
                if case .graph(let g) = a.value { return sum + nodeCount(g) }
                return sum
            }
        }
    }

    /// Refuses an output folder holding files unless `force`; returns whether it must be created
    /// (it is created only once the model is ready to write, and removed again if writing fails).
    static func checkOutputFolder(_ path: String, force: Bool) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return true }
        guard isDirectory.boolValue else { throw ExportError("\(path): exists and is not a folder") }
        let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        if !contents.isEmpty && !force {
            throw ExportError("\(path): output folder is not empty (\(contents.count) entries); pass --force to write into it")
        }
        return false
    }

    static func createFolder(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ExportError("\(path): cannot create the output folder (\(error.localizedDescription))")
        }
    }

}
