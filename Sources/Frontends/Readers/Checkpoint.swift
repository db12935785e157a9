import Foundation
import ONNXExportIR

/// A checkpoint folder opened for export: its config (from `config.json`, or a file given
/// explicitly) and its weights, recognised from the files the folder holds.
public struct Checkpoint {
    public let folder: String
    public let config: ConfigReader
    public let modelType: String
    public let weights: WeightStore
    /// The format the weights were read from.
    public let format: WeightFormat

    /// Opens `folder`; `configFile` overrides the folder's config and `modelType` names the
    /// architecture when the config (an original one) does not.
    public init(folder: String, configFile: String? = nil, modelType: String? = nil) throws {
        self.folder = folder
        config = try Self.config(folder: folder, configFile: configFile, modelType: modelType)
        self.modelType = try config.string("model_type")
        let entry = try ArchitectureRegistry.entry(for: self.modelType, origin: config.origin)
        let (format, store) = try WeightFormat.open(folder: folder)
        if let layout = format.originalLayout {
            guard let table = entry.originalNames[layout] else {
                throw ExportError("\(store.origin): \(format.description) checkpoints of model_type \(self.modelType) are not supported")
            }
            weights = try table.translate(store, label: "\(self.modelType) \(format.description)")
        } else {
            weights = store
        }
        self.format = format
    }

    /// The config alone, without opening the weights (`--task auto` reads it before the export).
    public static func config(folder: String, configFile: String? = nil, modelType: String? = nil) throws -> ConfigReader {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw ExportError("\(folder): no such folder")
        }
        guard isDirectory.boolValue else { throw ExportError("\(folder): not a folder; --model takes the checkpoint's folder") }
        return try ConfigLocator.load(folder: folder, explicit: configFile, modelType: modelType)
    }
}
