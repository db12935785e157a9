import ONNXExportIR

/// The task an export computes: the one asked for by name, or, under `auto`, the one the
/// checkpoint was saved for.
///
/// `auto` reads the model class `save_pretrained` wrote into config.json's `architectures`
/// (`LlamaForCausalLM`) and maps it as optimum's exporter maps a model class: through the
/// transformers auto-class its name belongs to (`TaskOfArchitecture`), then to the task's
/// `-with-past` form when the architecture exports one, as optimum does whenever it inferred the
/// task itself. A config without `architectures` (original configs such as `bert_config.json`
/// never have it), or with a class no task fits, exports `feature-extraction` and says why.
///
/// ```swift
/// let choice = try TaskChoice(name: "auto", config: config, supported: Task.decoderTasks)
/// choice.task         // .textGenerationWithPast
/// choice.description  // "task: text-generation-with-past (from architectures: LlamaForCausalLM)"
/// ```
public struct TaskChoice: Sendable, Equatable, CustomStringConvertible {
    /// The name that asks for inference, and the CLI's default.
    public static let auto = "auto"

    public var task: Task
    /// How `auto` chose the task, said to the user; nil when the task was named.
    public var reason: String?

    public init(task: Task, reason: String? = nil) { self.task = task; self.reason = reason }

    /// `name` is a task name, an alias or `auto`; `supported` are the tasks the config's
    /// architecture exports. An inferred task outside them is an error naming the class.
    public init(name: String, config: ConfigReader, supported: [Task]) throws {
        guard name.lowercased() == Self.auto else {
            self.init(task: try Task(name: name))
            return
        }
        self = try Self.infer(config: config, supported: supported)
    }

    public var description: String {
        guard let reason else { return "task: \(task.rawValue)" }
        return "task: \(task.rawValue) (\(reason))"
    }

    static func infer(config: ConfigReader, supported: [Task]) throws -> TaskChoice {
        let file = config.origin
        guard let architecture = try config.optionalStrings("architectures")?.first else {
            return try fallback("\(file) names no architectures; pass --task to choose another", supported, config)
        }
        let mapped: Task
        switch TaskOfArchitecture.lookup(architecture) {
        case .task(let task):
            mapped = task
        case .noTask(let why):
            return try fallback("\(architecture) \(why); pass --task to choose another", supported, config)
        }
        let task = mapped.withPast.flatMap { supported.contains($0) ? $0 : nil } ?? mapped
        guard supported.contains(task) else {
            throw ExportError("\(file): architectures names \(architecture), a \(task.rawValue) model, but model_type \(Self.modelType(config)) exports only \(supported.map(\.rawValue).joined(separator: ", ")); pass --task with one of them")
        }
        var reason = "from architectures: \(architecture)"
        if let note = TaskOfArchitecture.note(architecture) { reason += "; \(note)" }
        return TaskChoice(task: task, reason: reason)
    }

    /// feature-extraction, which every architecture exports, with the reason it was not inferred.
    private static func fallback(_ reason: String, _ supported: [Task], _ config: ConfigReader) throws -> TaskChoice {
        guard supported.contains(.featureExtraction) else {
            throw ExportError("\(config.origin): model_type \(modelType(config)) does not export feature-extraction and the task cannot be inferred (\(reason))")
        }
        return TaskChoice(task: .featureExtraction, reason: reason)
    }

    private static func modelType(_ config: ConfigReader) -> String { (try? config.string("model_type")) ?? "?" }
}

extension Task {
    /// The form that also takes and returns the cache (KV cache, Transformer-XL's memory), when
    /// the task has one.
    public var withPast: Task? {
        switch self {
        case .textGeneration: return .textGenerationWithPast
        case .text2textGeneration: return .text2textGenerationWithPast
        default: return nil
        }
    }
}
