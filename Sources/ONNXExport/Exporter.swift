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
        let task = try Task(name: options.task)
        guard Opsets.supported.contains(options.opset) else {
            throw ExportError("opset \(options.opset) is not supported: choose one from \(Opsets.oldest) to \(Opsets.newest) (default \(Opsets.default))")
        }
        let createdFolder = try checkOutputFolder(options.outputFolder, force: options.force)

        let checkpoint = try Checkpoint(folder: options.modelFolder, configFile: options.configFile, modelType: options.modelType)
        let entry = try ArchitectureRegistry.entry(for: checkpoint.modelType, origin: checkpoint.config.origin)
        guard entry.tasks.contains(task) else {
            throw ExportError("model_type \(checkpoint.modelType) does not support task \(task.rawValue); it supports \(entry.tasks.map(\.rawValue).joined(separator: ", "))")
        }
        let model = try entry.make(checkpoint.config, checkpoint.weights)
        let graph = try model.graph(for: task, name: "\(checkpoint.modelType)-\(task.rawValue)")
        try LabelCount.require(graph, task: task, config: checkpoint.config)
        _ = try PassPipeline.run(graph)
        let dtype = try options.precision.dataType(for: checkpoint.weights, opset: options.opset)
        if dtype != .float32 {
            try ReducePrecision.run(graph, to: dtype, keepingOutputs: DecoderTaskGraph.isFedBack)
            try InferShapes.run(graph)
            try Verify.run(graph)
        }

        let metadata: [(key: String, value: String)] = [("model_type", checkpoint.modelType), ("task", task.rawValue), ("dtype", dtype.description)]
        let spec = try ModelLowering.lower(graph, opset: options.opset, metadata: metadata, declaringIntermediateTypes: dtype != .float32)
        var serializeOptions = SerializeOptions()
        serializeOptions.externalData = options.externalData
        let written: SerializeReport
        let copied: [String]
        do {
            if createdFolder { try createFolder(options.outputFolder) }
            written = try ONNXSerializer.write(spec, toDirectory: options.outputFolder, options: serializeOptions)
            copied = try CompanionFiles.write(config: checkpoint.config, from: checkpoint.folder, to: options.outputFolder)
        } catch {
            if createdFolder { try? FileManager.default.removeItem(atPath: options.outputFolder) }
            throw error
        }

        return ExportReport(
            modelType: checkpoint.modelType, task: task.rawValue, opset: options.opset, dtype: dtype, irVersion: spec.irVersion,
            inputs: graph.inputs.map { .init(name: graph[$0].name, type: graph[$0].type) },
            outputs: graph.outputs.map { .init(name: graph[$0].name, type: graph[$0].type) },
            modelPath: written.modelPath, dataPath: written.dataPath, modelBytes: written.modelBytes, dataBytes: written.dataBytes,
            nodeCount: spec.graph.nodes.count, initializerCount: spec.graph.initializers.count,
            copiedFiles: copied, seconds: Date().timeIntervalSince(started))
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
