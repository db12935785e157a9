import ONNXExportIR

/// Turns an IR graph into an `ONNXModelSpec` for one opset: graph inputs and outputs with their
/// symbolic axes, every node through the lowering table, constants as initializers.
public enum ModelLowering {
    public static func lower(_ graph: Graph, opset: Int, docString: String = "",
                             metadata: [(key: String, value: String)] = []) throws -> ONNXModelSpec {
        guard Opsets.supported.contains(opset) else {
            throw ExportError("opset \(opset) is not supported: choose one from \(Opsets.oldest) to \(Opsets.newest)")
        }
        let context = LoweringContext(graph: graph, opset: opset)
        for node in graph.nodes { try LoweringTable.lower(node, context) }

        var spec = ONNXGraphSpec(name: graph.name)
        spec.inputs = graph.inputs.map { ONNXValueInfoSpec(name: graph[$0].name, type: graph[$0].type) }
        spec.outputs = graph.outputs.map { ONNXValueInfoSpec(name: graph[$0].name, type: graph[$0].type) }
        spec.nodes = context.nodes
        spec.initializers = context.initializers
        var model = ONNXModelSpec(irVersion: Opsets.irVersion(for: opset), opsetImports: [.init(version: Int64(opset))], graph: spec)
        model.docString = docString
        model.metadata = metadata
        return model
    }
}
