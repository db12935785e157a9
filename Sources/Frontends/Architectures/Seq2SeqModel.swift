import ONNXExportIR

/// The graph inputs of one decoder step of an encoder-decoder, and its caches.
public struct Seq2SeqDecoderInputs {
    /// `[B, S]`: the new decoder tokens.
    public var inputIDs: Value
    /// `[B, T]`: which encoder positions are real tokens.
    public var encoderAttentionMask: Value
    /// `[B, T, hidden]`: the encoder's output, from which the first step computes the
    /// cross-attention keys and values; nil on later steps, which read them from `crossPast`.
    public var encoderHiddenStates: Value?
    /// Per layer, the self-attention keys and values of the earlier steps, `[B, H, P, D]`; nil on
    /// the first step (no past).
    public var selfPast: [KeyValue]?
    /// Per layer, the cross-attention keys and values, `[B, H, T, D]`; nil on the first step.
    public var crossPast: [KeyValue]?
}

/// What a decoder step returns: the final hidden states and, per layer, the self-attention
/// keys and values over past and new tokens and the cross-attention keys and values.
public struct Seq2SeqDecoderOutputs {
    public var hidden: Value
    public var selfPresents: [KeyValue]
    public var crossPresents: [KeyValue]
    public init(hidden: Value, selfPresents: [KeyValue], crossPresents: [KeyValue]) {
        self.hidden = hidden; self.selfPresents = selfPresents; self.crossPresents = crossPresents
    }
}

/// An encoder-decoder checkpoint (T5 and kin): the architecture file says how to encode, how to
/// run one decoder step with or without caches, and how to project to the vocabulary;
/// `Seq2SeqTaskGraph` makes the files, their inputs, outputs and axes.
public protocol Seq2SeqModel: ExportableModel {
    /// Width of the encoder's output (`encoder_hidden_states`).
    var encoderHiddenSize: Int { get }
    var decoderLayerCount: Int { get }
    /// Heads and head size of the cached keys and values (self and cross attention alike).
    var decoderHeads: Int { get }
    var decoderHeadSize: Int { get }
    /// `last_hidden_state` `[B, T, hidden]`.
    func encode(inputIDs: Value, attentionMask: Value, _ b: GraphBuilder) throws -> Value
    func decode(_ inputs: Seq2SeqDecoderInputs, _ b: GraphBuilder) throws -> Seq2SeqDecoderOutputs
    /// Vocabulary logits `[B, S, V]` from the decoder's hidden states.
    func languageModelHead(_ hidden: Value, _ b: GraphBuilder) throws -> Value
}

extension Seq2SeqModel {
    public func graph(for task: Task, name: String) throws -> Graph {
        guard task == .featureExtraction else {
            throw ExportError("\(task.rawValue) of an encoder-decoder writes several files; ask for its parts")
        }
        return try Seq2SeqTaskGraph.encoder(self, name: name)
    }

    public func parts(for task: Task, name: String) throws -> [ExportPart] {
        try Seq2SeqTaskGraph.parts(self, task: task, name: name)
    }
}
