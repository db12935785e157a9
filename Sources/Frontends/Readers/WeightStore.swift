import ONNXExportIR

/// Checkpoint tensors by name, as lazy references: opening a store reads headers only.
///
/// Readers (one per format) fill it; architectures ask for the weights they need with `require`,
/// which names the missing tensor and the checkpoint instead of inventing a value.
public struct WeightStore {
    /// Where the tensors came from (a file or folder path), for error messages.
    public var origin: String
    public var tensors: [String: TensorData]

    public init(origin: String, tensors: [String: TensorData]) {
        self.origin = origin; self.tensors = tensors
    }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The tensor called `name`, or an error naming it and the checkpoint.
    public func require(_ name: String) throws -> TensorData {
        guard let t = tensors[name] else {
            throw ExportError("\(origin): weight '\(name)' is missing from the checkpoint")
        }
        return t
    }
}
