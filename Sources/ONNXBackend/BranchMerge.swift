import ONNXExportIR

/// Two lowered models that compute the same outputs from different inputs, joined into one
/// whose `If` on a bool input runs one or the other: optimum's merged decoder
/// (`decoder_model_merged.onnx`), where `use_cache_branch` picks the step with a cache over the
/// first step, so a runtime loads one graph and one copy of the weights for both.
///
/// Both bodies become subgraphs that read the outer graph's inputs and initializers by name
/// (ONNX outer-scope references). Initializers holding the same tensor are one outer
/// initializer, so a weight both branches read is stored once; the other names a branch defines
/// (its nodes and intermediate values) take the branch's label as a prefix, so the two
/// branches never define the same name. The outer inputs are the false branch's, then the true
/// branch's others, then the condition; each output takes the true branch's declared type.
public enum BranchMerge {
    public static func merge(condition: String, whenTrue: ONNXModelSpec, trueLabel: String,
                             whenFalse: ONNXModelSpec, falseLabel: String, name: String) throws -> ONNXModelSpec {
        let t = whenTrue.graph, f = whenFalse.graph
        guard whenTrue.opsetImports == whenFalse.opsetImports, whenTrue.irVersion == whenFalse.irVersion else {
            throw ExportError("cannot merge '\(t.name)' and '\(f.name)': they target different opsets")
        }
        guard t.outputs.map(\.name) == f.outputs.map(\.name) else {
            throw ExportError("cannot merge '\(t.name)' and '\(f.name)': outputs differ (\(t.outputs.map(\.name)) vs \(f.outputs.map(\.name)))")
        }
        for (a, b) in zip(t.outputs, f.outputs) where a.type.dtype != b.type.dtype || a.type.rank != b.type.rank {
            throw ExportError("cannot merge '\(t.name)' and '\(f.name)': output '\(a.name)' is \(a.type) in one and \(b.type) in the other")
        }
        var inputs = f.inputs
        for input in t.inputs {
            if let same = inputs.first(where: { $0.name == input.name }) {
                guard same.type.dtype == input.type.dtype, same.type.rank == input.type.rank else {
                    throw ExportError("cannot merge '\(t.name)' and '\(f.name)': input '\(input.name)' is \(input.type) in one and \(same.type) in the other")
                }
            } else {
                inputs.append(input)
            }
        }
        guard !inputs.contains(where: { $0.name == condition }) else {
            throw ExportError("cannot merge: the condition '\(condition)' is already an input")
        }
        inputs.append(ONNXValueInfoSpec(name: condition, type: TensorType(.bool, [.fixed(1)])))

        var outer = Initializers()
        let thenBranch = try branch(t, label: trueLabel, outer: &outer)
        let elseBranch = try branch(f, label: falseLabel, outer: &outer)
        var graph = ONNXGraphSpec(name: name)
        graph.inputs = inputs
        graph.outputs = t.outputs
        graph.initializers = outer.list
        graph.nodes = [ONNXNodeSpec(name: "/\(condition)/If", opType: "If", inputs: [condition], outputs: t.outputs.map(\.name),
                                    attributes: [.init("then_branch", .graph(thenBranch)), .init("else_branch", .graph(elseBranch))])]
        var model = ONNXModelSpec(irVersion: whenTrue.irVersion, opsetImports: whenTrue.opsetImports, graph: graph)
        model.docString = whenTrue.docString
        model.metadata = whenTrue.metadata
        return model
    }

    /// The outer graph's initializers: one per distinct tensor, under unique names.
    struct Initializers {
        var list: [ONNXInitializerSpec] = []
        var byData: [TensorData: String] = [:]
        var names: Set<String> = []

        /// The outer name holding `spec`'s tensor, added under `spec.name` (suffixed if taken).
        mutating func name(for spec: ONNXInitializerSpec, label: String) -> String {
            if let existing = byData[spec.data] { return existing }
            var candidate = spec.name
            if names.contains(candidate) { candidate = prefixed(spec.name, label) }
            var k = 1
            while names.contains(candidate) { candidate = "\(prefixed(spec.name, label))_\(k)"; k += 1 }
            names.insert(candidate)
            byData[spec.data] = candidate
            list.append(ONNXInitializerSpec(name: candidate, data: spec.data))
            return candidate
        }
    }

    /// `graph` as a subgraph: its initializers moved out, everything it defines renamed under `label`.
    static func branch(_ graph: ONNXGraphSpec, label: String, outer: inout Initializers) throws -> ONNXGraphSpec {
        var rename: [String: String] = [:]
        for i in graph.initializers { rename[i.name] = outer.name(for: i, label: label) }
        for node in graph.nodes {
            for output in node.outputs where !output.isEmpty { rename[output] = prefixed(output, label) }
        }
        var sub = ONNXGraphSpec(name: "\(graph.name)/\(label)")
        sub.nodes = graph.nodes.map { node in
            var n = node
            n.name = prefixed(node.name, label)
            n.inputs = node.inputs.map { rename[$0] ?? $0 }
            n.outputs = node.outputs.map { rename[$0] ?? $0 }
            return n
        }
        // A subgraph's outputs are its own values: an input or weight passed straight through
        // needs an Identity in the graph (IR `identity`) before merging.
        for output in graph.outputs where !graph.nodes.contains(where: { $0.outputs.contains(output.name) }) {
            throw ExportError("graph '\(graph.name)': output '\(output.name)' is computed by no node; pass it through an identity")
        }
        sub.outputs = graph.outputs.map { ONNXValueInfoSpec(name: rename[$0.name] ?? $0.name, type: $0.type) }
        sub.valueInfo = graph.valueInfo.map { ONNXValueInfoSpec(name: rename[$0.name] ?? $0.name, type: $0.type) }
        return sub
    }

    static func prefixed(_ name: String, _ label: String) -> String {
        name.hasPrefix("/") ? "/\(label)\(name)" : "/\(label)/\(name)"
    }
}
