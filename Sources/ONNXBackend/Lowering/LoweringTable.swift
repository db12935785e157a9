import ONNXExportIR

/// One way to write an IR node as ONNX nodes, valid from opset `since` on.
struct LoweringRule {
    let since: Int
    let lower: (Node, LoweringContext) throws -> Void
}

/// The lowering table: for each IR op kind, its rules by the opset they need. The exporter picks
/// the rule with the highest `since` not above the target opset, so native ops replace
/// decompositions as soon as the opset has them (LayerNormalization from 17, Gelu from 20, ...).
enum LoweringTable {
    static let rules: [String: [LoweringRule]] = {
        var table: [String: [LoweringRule]] = [:]
        for group in [ElementwiseLowering.rules, NormalizationLowering.rules, AttentionLowering.rules, HeadAttentionLowering.rules, ShapeLowering.rules,
                      QuantizationLowering.rules, RuntimeFusedLowering.rules] {
            for (kind, list) in group { table[kind, default: []].append(contentsOf: list) }
        }
        return table.mapValues { $0.sorted { $0.since > $1.since } }
    }()

    static func lower(_ node: Node, _ context: LoweringContext) throws {
        guard let candidates = rules[node.op.kind] else {
            throw ExportError("node \(node.name): no ONNX lowering exists for \(node.op.kind)")
        }
        guard let rule = candidates.first(where: { $0.since <= context.opset }) else {
            let lowest = candidates.map(\.since).min() ?? 0
            throw ExportError("node \(node.name): \(node.op.kind) needs opset \(lowest) or newer, the target is \(context.opset)")
        }
        try rule.lower(node, context)
    }
}

/// Helpers the rule files share.
extension LoweringContext {
    func inputNames(_ node: Node) -> [String] { node.inputs.map { name($0) } }
    func outputNames(_ node: Node) -> [String] { node.outputs.map { name($0) } }

    /// The node's single output name: where a decomposition must write its final result.
    func output(_ node: Node) -> String { name(node.outputs[0]) }

    func rank(_ v: Value?) -> Int { v.map { graph.type(of: $0).rank } ?? 0 }

    /// The fixed size of axis `axis` of input `index`, if that input exists and the size is known.
    func fixedDim(_ node: Node, input index: Int, axis: Int) -> Int? {
        guard index < node.inputs.count, let v = node.inputs[index] else { return nil }
        let shape = graph.type(of: v).shape
        return axis < shape.count ? shape[axis].fixedValue : nil
    }

    /// ReduceMean or ReduceMax over `axes`: an attribute before opset 18, an input from 18.
    func reduce(_ reduction: Reduction, _ x: String, axes: [Int], keepDims: Bool, output: String? = nil, name: String) -> String {
        let out = output ?? temp(name)
        if opset >= 18 {
            emit(reduction.rawValue, [x, int64s(axes)], [out], name: name, attributes: [.init("keepdims", .int(keepDims ? 1 : 0))])
        } else {
            emit(reduction.rawValue, [x], [out], name: name,
                 attributes: [.init("axes", .ints(axes.map(Int64.init))), .init("keepdims", .int(keepDims ? 1 : 0))])
        }
        return out
    }

    /// Unsqueeze/Squeeze: `axes` an attribute before opset 13, an input from 13.
    func axesOp(_ opType: String, _ x: String, axes: [Int], output: String? = nil, name: String) -> String {
        let out = output ?? temp(name)
        if opset >= 13 {
            emit(opType, [x, int64s(axes)], [out], name: name)
        } else {
            emit(opType, [x], [out], name: name, attributes: [.init("axes", .ints(axes.map(Int64.init)))])
        }
        return out
    }
}

/// A rule that writes the node as one ONNX op of the same inputs and outputs.
func direct(_ opType: String, since: Int = Opsets.oldest,
            attributes: @escaping (Node) -> [ONNXAttributeSpec] = { _ in [] }) -> LoweringRule {
    LoweringRule(since: since) { node, c in
        c.emit(opType, c.inputNames(node), c.outputNames(node), name: node.name, attributes: attributes(node))
    }
}
