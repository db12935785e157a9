import ONNXExportIR

/// What a segment-recurrent decoder returns for the new tokens: the last layer's hidden states
/// `[B, S, width]`, and per layer its memory followed by its input, `[B, M+S, width]`: what
/// transformers' `_update_mems` keeps the last `mem_len` positions of.
public struct MemoryDecoderOutputs {
    public var hidden: Value
    public var extendedInputs: [Value]
    public init(hidden: Value, extendedInputs: [Value]) { self.hidden = hidden; self.extendedInputs = extendedInputs }
}

/// A causal language model with Transformer-XL's segment-level recurrence instead of a KV
/// cache: each layer attends over its own input of earlier segments (its memory, hidden states,
/// not keys and values) followed by the new tokens. The architecture file runs the layers and
/// the head; `MemoryTaskGraph` does inputs, outputs, the memory contract and axes.
public protocol MemoryDecoderModel: ExportableModel {
    var layerCount: Int { get }
    /// Width of every memory (`d_model`).
    var memoryWidth: Int { get }
    /// `mem_len`: how many positions a memory keeps. Zero or less: the model keeps none (and
    /// transformers then runs without memory).
    var memoryLength: Int { get }
    /// Embeddings and layers over `inputIDs` `[B, S]` after `memories` (per layer `[B, M, width]`;
    /// nil: no memory at all).
    func decode(_ inputIDs: Value, memories: [Value]?, _ b: GraphBuilder) throws -> MemoryDecoderOutputs
    /// Scores over the vocabulary `[B, S, V]`.
    func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value
}

extension MemoryDecoderModel {
    public func graph(for task: Task, name: String) throws -> Graph {
        try MemoryTaskGraph.build(self, task: task, name: name)
    }
}
