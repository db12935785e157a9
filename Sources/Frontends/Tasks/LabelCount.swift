import ONNXExportIR

/// The number of labels a classification config declares, checked against the classifier the
/// checkpoint holds. transformers builds the head with `config.num_labels` rows and refuses a
/// checkpoint whose classifier has another count; exporting the checkpoint's count would label
/// the outputs with names (`id2label`) that do not belong to them.
public enum LabelCount {
    /// `len(id2label)` where the config has it (transformers derives num_labels from it), else
    /// `num_labels`, else transformers' default of 2 (configs saved with the default labels leave
    /// both out).
    public static func declared(by c: ConfigReader) throws -> Int {
        if let labels = try c.object("id2label") { return labels.fields.count }
        return try c.positiveInt("num_labels", default: 2)
    }

    /// For text and token classification: the `logits` output's last axis must be the config's
    /// label count.
    public static func require(_ graph: Graph, task: Task, config c: ConfigReader) throws {
        guard task == .textClassification || task == .tokenClassification,
              let logits = graph.outputs.first(where: { graph[$0].name == "logits" }),
              let rows = graph[logits].type.shape.last?.fixedValue else { return }
        let declared = try declared(by: c)
        guard rows == declared else {
            throw ExportError("\(c.origin): the config declares \(declared) labels (id2label / num_labels), but the checkpoint's classifier gives \(rows)")
        }
    }
}
