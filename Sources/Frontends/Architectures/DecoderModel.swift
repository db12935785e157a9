import ONNXExportIR

/// The graph inputs of one decoder step, and the shared tensors built from them once.
public struct DecoderInputs {
    public var inputIDs: Value
    /// `[B, P+S]`: past and new tokens.
    public var attentionMask: Value
    public var positionIDs: Value
    /// Additive `[B, 1, S, P+S]` causal + padding mask, no window (a model with sliding-window
    /// layers builds their mask itself).
    public var causalMask: Value
    /// Per layer, the cached `[B, Hkv, P, D]` keys and values; nil when exporting without a cache.
    public var pastKeyValues: [KeyValue]?
    /// The runtime the graph is for: with `.onnxruntime` a model may attend with onnxruntime's
    /// `GroupQueryAttention`, which reads the mask and positions its own way.
    public var target: ExportTarget = .portable
}

public struct KeyValue {
    public var key: Value
    public var value: Value
    public init(key: Value, value: Value) { self.key = key; self.value = value }
}

/// What a decoder body returns: the final hidden states (after the last norm) and, per layer,
/// the keys and values including the past, `[B, Hkv, P+S, D]`, to return as `present.N.*`.
public struct DecoderOutputs {
    public var hidden: Value
    public var presents: [KeyValue]
    public init(hidden: Value, presents: [KeyValue]) { self.hidden = hidden; self.presents = presents }
}

/// A causal language model checkpoint: the architecture file says how to run the layers and
/// which heads it has; `DecoderTaskGraph` does inputs, outputs, the KV cache contract and axes.
public protocol DecoderModel: ExportableModel {
    var layerCount: Int { get }
    /// Query heads (as many as key/value heads, or a multiple of them).
    var attentionHeads: Int { get }
    var keyValueHeads: Int { get }
    var headSize: Int { get }
    /// Width of the hidden states.
    var modelWidth: Int { get }
    /// Sequence classification pools the last token that is not this one.
    var padTokenID: Int? { get }
    func decode(_ inputs: DecoderInputs, _ b: GraphBuilder) throws -> DecoderOutputs
    /// Vocabulary logits `[B, S, V]`.
    func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value
    /// Per-token scores `[B, S, labels]` of the classification head of `task`.
    func scoreHead(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value
    /// Whether every layer's cache for `target` comes from an op that may write it in place
    /// (`GroupQueryAttention`), so a runtime can pass one buffer as past and present; a layer
    /// that concatenates needs them apart.
    func sharesCacheBuffer(for target: ExportTarget) -> Bool
}

extension DecoderModel {
    public func graph(for task: Task, name: String) throws -> Graph {
        try DecoderTaskGraph.build(self, task: task, name: name)
    }

    public func parts(for task: Task, name: String, target: ExportTarget) throws -> [ExportPart] {
        [.graph(fileName: "model.onnx", try DecoderTaskGraph.build(self, task: task, name: name, target: target))]
    }

    public func sharesCacheBuffer(for target: ExportTarget) -> Bool { false }
}
