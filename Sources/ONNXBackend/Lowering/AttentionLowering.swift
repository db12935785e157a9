import ONNXExportIR

/// Multi-head attention as standard ops, the form every opset and runtime executes:
/// split heads, `softmax(Q·Kᵀ · scale + mask) · V`, merge heads. The scale multiplies the scores
/// after the product, as transformers' eager attention does, so rounding matches.
enum AttentionLowering {
    static let rules: [String: [LoweringRule]] = [
        "Attention": [
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .attention(let heads, let scale) = node.op else { return }
                decompose(node, heads: heads, scale: scale, c)
            },
        ],
    ]

    static func decompose(_ node: Node, heads: Int, scale: Float, _ c: LoweringContext) {
        let n = node.name
        let splitShape = c.int64s([0, 0, heads, -1])
        func split(_ input: Value?, _ role: String, perm: [Int64]) -> String {
            let reshaped = c.emit1("Reshape", [c.name(input), splitShape], name: "\(n)/\(role)/Reshape")
            return c.emit1("Transpose", [reshaped], name: "\(n)/\(role)/Transpose", attributes: [.init("perm", .ints(perm))])
        }
        let q = split(node.inputs[0], "query", perm: [0, 2, 1, 3])
        let kT = split(node.inputs[1], "key", perm: [0, 2, 3, 1])
        let v = split(node.inputs[2], "value", perm: [0, 2, 1, 3])
        var scores = c.emit1("MatMul", [q, kT], name: n + "/MatMul")
        scores = c.emit1("Mul", [scores, c.scalar(scale)], name: n + "/MulScale")
        if node.inputs.count > 3, let mask = node.inputs[3] {
            scores = c.emit1("Add", [scores, c.name(mask)], name: n + "/AddMask")
        }
        let probabilities = c.emit1("Softmax", [scores], name: n + "/Softmax", attributes: [.init("axis", .int(-1))])
        let context = c.emit1("MatMul", [probabilities, v], name: n + "/MatMul_1")
        let merged = c.emit1("Transpose", [context], name: n + "/Transpose", attributes: [.init("perm", .ints([0, 2, 1, 3]))])
        c.emit("Reshape", [merged, c.int64s([0, 0, -1])], [c.output(node)], name: n + "/Reshape")
    }
}
