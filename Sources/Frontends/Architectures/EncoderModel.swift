import ONNXExportIR

/// The graph inputs an encoder reads, already flattened to `[rows, sequence]` for multiple choice.
public struct EncoderInputs {
    public var inputIDs: Value
    public var attentionMask: Value
    public var tokenTypeIDs: Value?
    /// XLM's `langs`: the language of every token, for models with language embeddings.
    public var languageIDs: Value? = nil
}

/// A checkpoint decoded and ready to build the graph of one task.
public protocol ExportableModel {
    func graph(for task: Task, name: String) throws -> Graph
    /// The files an export of `task` writes: one `model.onnx` for most tasks, several for an
    /// encoder-decoder's generation.
    func parts(for task: Task, name: String) throws -> [ExportPart]
    /// The files for a runtime target; models with no fused form for it build the portable ones.
    func parts(for task: Task, name: String, target: ExportTarget) throws -> [ExportPart]
}

extension ExportableModel {
    public func parts(for task: Task, name: String) throws -> [ExportPart] {
        [.graph(fileName: "model.onnx", try graph(for: task, name: name))]
    }

    public func parts(for task: Task, name: String, target: ExportTarget) throws -> [ExportPart] {
        try parts(for: task, name: name)
    }
}

/// One model file of an export.
public enum ExportPart {
    case graph(fileName: String, Graph)
    /// One file whose `If` on the bool input `condition` runs `whenTrue` or `whenFalse` (optimum's
    /// merged decoder); the labels prefix each branch's names.
    case merged(fileName: String, condition: String, whenTrue: Graph, trueLabel: String, whenFalse: Graph, falseLabel: String)

    public var fileName: String {
        switch self {
        case .graph(let name, _), .merged(let name, _, _, _, _, _): return name
        }
    }

    /// Every graph the part holds.
    public var graphs: [Graph] {
        switch self {
        case .graph(_, let g): return [g]
        case .merged(_, _, let t, _, let f, _): return [t, f]
        }
    }
}

/// An encoder checkpoint decoded and ready to build: the architecture file says how to embed,
/// encode and put each task's head on top; `EncoderTaskGraph` does inputs, outputs and axes.
public protocol EncoderModel: ExportableModel {
    /// Whether the exported graph takes `token_type_ids` (optimum's input set for the architecture).
    var takesTokenTypeIDs: Bool { get }
    /// Whether the exported graph takes `langs` (XLM with more than one language embedding).
    var takesLanguageIDs: Bool { get }
    /// Width of `last_hidden_state`.
    var hiddenSize: Int { get }
    /// Embeddings and layers: `last_hidden_state` `[rows, sequence, hidden]`.
    func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value
    /// `pooler_output` for feature extraction, nil where the model has no pooler.
    func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value?
    /// The task head on `last_hidden_state`: `logits` (`[rows, labels]`, `[rows, seq, labels]`,
    /// `[rows, 1]` for multiple choice) or, for question answering, the `[rows, seq, 2]` span logits.
    func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value
}

extension EncoderModel {
    public var takesLanguageIDs: Bool { false }

    public func graph(for task: Task, name: String) throws -> Graph {
        try EncoderTaskGraph.build(self, task: task, name: name)
    }

    /// The pooler, required (classification and multiple choice read it); without it, the
    /// error names `name` under `w`, the pooler's first tensor.
    func requiredPooler(_ hidden: Value, _ b: GraphBuilder, for task: Task, missing w: Weights, _ name: String) throws -> Value {
        guard let pooled = try pooler(hidden, b) else {
            throw ExportError("\(w.store.origin): weight '\(w.fullName(name))' is missing; \(task.rawValue) needs the pooler")
        }
        return pooled
    }
}

/// One line of the registry: the `model_type` values an architecture answers to, the tasks it
/// supports, and how to decode a checkpoint of it.
public struct ArchitectureEntry {
    public var modelTypes: [String]
    public var tasks: [Task]
    public var make: (ConfigReader, WeightStore) throws -> ExportableModel
    /// How the architecture's original checkpoints name their weights, per layout.
    public var originalNames: [OriginalLayout: NameTable] = [:]
    /// Tasks of `tasks` that a particular config cannot export (Transformer-XL keeping no memory
    /// has no with-past form), so `--task auto` does not pick them.
    public var unavailableTasks: (ConfigReader) -> [Task] = { _ in [] }

    /// The tasks a checkpoint with `config` exports.
    public func tasks(for config: ConfigReader) -> [Task] {
        let unavailable = unavailableTasks(config)
        return tasks.filter { !unavailable.contains($0) }
    }
}

/// Checkpoint layouts that predate transformers and use their own weight names.
public enum OriginalLayout: String, Sendable, CaseIterable {
    /// A TensorFlow v1 checkpoint (Google's `bert_model.ckpt`, OpenAI's GPT-2 `model.ckpt`).
    case tensorflow
    /// OpenAI's finetune-transformer-lm numpy parameters (`params_shapes.json` + `params_N.npy`).
    case openAINumpy
}
