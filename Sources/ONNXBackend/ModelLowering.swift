import ONNXExportIR

/// Turns an IR graph into an `ONNXModelSpec` for one opset: graph inputs and outputs with their
/// symbolic axes, every node through the lowering table, constants as initializers.
public enum ModelLowering {
    /// With `declaringIntermediateTypes`, every IR value a node computes is also declared in
    /// `value_info` with its type and symbolic axes. Reduced-precision exports ask for it:
    /// onnxruntime's CPU provider wraps float16 ops it has no kernel for in Casts it inserts, and
    /// its NCHWc layout pass then crashed (a segfault while creating the session) on a DeBERTa-v3
    /// multiple-choice graph whose shapes its own inference had left incomplete. float32 exports
    /// leave it out: on bert-base it measured 1% slower in onnxruntime.
    public static func lower(_ graph: Graph, opset: Int, docString: String = "",
                             metadata: [(key: String, value: String)] = [],
                             declaringIntermediateTypes: Bool = false) throws -> ONNXModelSpec {
        guard Opsets.supported.contains(opset) else {
            throw ExportError("opset \(opset) is not supported: choose one from \(Opsets.oldest) to \(Opsets.newest)")
        }
        let context = LoweringContext(graph: graph, opset: opset)
        for node in graph.nodes { try LoweringTable.lower(node, context) }

        var spec = ONNXGraphSpec(name: graph.name)
        spec.inputs = graph.inputs.map { ONNXValueInfoSpec(name: graph[$0].name, type: graph[$0].type) }
        spec.outputs = graph.outputs.map { ONNXValueInfoSpec(name: graph[$0].name, type: graph[$0].type) }
        spec.nodes = context.nodes
        if declaringIntermediateTypes {
            let outputs = Set(graph.outputs)
            spec.valueInfo = graph.nodes.flatMap(\.outputs).filter { !outputs.contains($0) }
                .map { ONNXValueInfoSpec(name: context.name($0), type: graph[$0].type) }
        }
        spec.initializers = context.initializers
        var model = ONNXModelSpec(irVersion: Opsets.irVersion(for: opset), opsetImports: try Opsets.imports(opset: opset, nodes: context.nodes),
                                  graph: spec)
        model.docString = docString
        model.metadata = metadata
        return model
    }
}
