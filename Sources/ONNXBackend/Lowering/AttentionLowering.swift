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

/// Attention on head-split tensors, and rotary embeddings, as standard ops.
enum HeadAttentionLowering {
    static let rules: [String: [LoweringRule]] = [
        "HeadAttention": [
            // ONNX Attention (opset 23) takes head-split Q, K, V with fewer K/V heads (GQA) and an
            // additive mask directly; onnxruntime's CPU kernel matches the decomposition (checked
            // to 1e-7, including grouped heads).
            LoweringRule(since: 23) { node, c in
                guard case .headAttention(let scale) = node.op else { return }
                c.emit("Attention", c.inputNames(node), c.outputNames(node), name: node.name,
                       attributes: [.init("scale", .float(scale))])
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .headAttention(let scale) = node.op else { return }
                decompose(node, scale: scale, c)
            },
        ],
        "RotaryEmbedding": [
            LoweringRule(since: 23) { node, c in nativeRotary(node, c) },
            LoweringRule(since: Opsets.oldest) { node, c in decomposeRotary(node, c) },
        ],
    ]

    /// `softmax(Q·Kᵀ · scale + mask) · V`. With grouped-query attention the query is viewed as
    /// [B, Hkv, group, S, D] and key/value as [B, Hkv, 1, T, D], so MatMul broadcasting serves each
    /// key/value head to its group without copying the cache `group` times.
    static func decompose(_ node: Node, scale: Float, _ c: LoweringContext) {
        let n = node.name
        let hq = c.fixedDim(node, input: 0, axis: 1) ?? 1, hkv = c.fixedDim(node, input: 1, axis: 1) ?? 1
        let group = hq / max(hkv, 1)
        var q = c.name(node.inputs[0]), k = c.name(node.inputs[1]), v = c.name(node.inputs[2])
        var mask = node.inputs.count > 3 ? node.inputs[3].map { c.name($0) } : nil
        if group > 1 {
            q = c.emit1("Reshape", [q, c.int64s([0, hkv, group, -1, c.fixedDim(node, input: 0, axis: 3) ?? -1])], name: n + "/GroupQuery")
            k = c.axesOp("Unsqueeze", k, axes: [2], name: n + "/GroupKey")
            v = c.axesOp("Unsqueeze", v, axes: [2], name: n + "/GroupValue")
            if let m = mask { mask = c.axesOp("Unsqueeze", m, axes: [2], name: n + "/GroupMask") }
        }
        let kT = c.emit1("Transpose", [k], name: n + "/TransposeKey",
                         attributes: [.init("perm", .ints(group > 1 ? [0, 1, 2, 4, 3] : [0, 1, 3, 2]))])
        var scores = c.emit1("MatMul", [q, kT], name: n + "/MatMul")
        scores = c.emit1("Mul", [scores, c.scalar(scale)], name: n + "/MulScale")
        if let m = mask { scores = c.emit1("Add", [scores, m], name: n + "/AddMask") }
        let probabilities = c.emit1("Softmax", [scores], name: n + "/Softmax", attributes: [.init("axis", .int(-1))])
        if group > 1 {
            let context = c.emit1("MatMul", [probabilities, v], name: n + "/MatMul_1")
            c.emit("Reshape", [context, c.int64s([0, hq, -1, c.graph.type(of: node.outputs[0]).shape[3].fixedValue ?? -1])],
                   [c.output(node)], name: n + "/MergeGroups")
        } else {
            c.emit("MatMul", [probabilities, v], [c.output(node)], name: n + "/MatMul_1")
        }
    }

    /// ONNX RotaryEmbedding (opset 23) wants cos/sin as `[B, S, R/2]`: the first half of the
    /// duplicated `[B, 1, S, R]` tables, made once per graph and shared by every layer.
    static func nativeRotary(_ node: Node, _ c: LoweringContext) {
        let width = c.fixedDim(node, input: 1, axis: 3) ?? 0
        let headSize = c.fixedDim(node, input: 0, axis: 3) ?? width
        func half(_ table: Value?, _ label: String) -> String {
            let full = c.name(table)
            return c.derived("rotary-half:\(full)") {
                let sliced = c.emit1("Slice", [full, c.int64s([0]), c.int64s([width / 2]), c.int64s([-1])], name: "/rotary_emb/\(label)Half")
                return c.axesOp("Squeeze", sliced, axes: [1], name: "/rotary_emb/\(label)Squeeze")
            }
        }
        let cos = half(node.inputs[1], "Cos"), sin = half(node.inputs[2], "Sin")
        c.emit("RotaryEmbedding", [c.name(node.inputs[0]), cos, sin], c.outputNames(node), name: node.name,
               attributes: width < headSize ? [.init("rotary_embedding_dim", .int(Int64(width)))] : [])
    }

    /// `x·cos + rotate_half(x)·sin` on the first R channels, where rotate_half(x) = [−x₂, x₁].
    static func decomposeRotary(_ node: Node, _ c: LoweringContext) {
        let n = node.name
        let x = c.name(node.inputs[0]), cos = c.name(node.inputs[1]), sin = c.name(node.inputs[2])
        let width = c.fixedDim(node, input: 1, axis: 3) ?? 0
        let headSize = c.fixedDim(node, input: 0, axis: 3)
        let partial = headSize.map { $0 > width } ?? true
        func slice(_ input: String, _ start: Int, _ end: Int, _ label: String) -> String {
            c.emit1("Slice", [input, c.int64s([start]), c.int64s([end]), c.int64s([-1])], name: "\(n)/\(label)")
        }
        let rotating = partial ? slice(x, 0, width, "SliceRotary") : x
        let first = slice(rotating, 0, width / 2, "SliceFirstHalf")
        let second = slice(rotating, width / 2, width, "SliceSecondHalf")
        let negated = c.emit1("Neg", [second], name: n + "/Neg")
        let rotated = c.emit1("Concat", [negated, first], name: n + "/RotateHalf", attributes: [.init("axis", .int(-1))])
        let withCos = c.emit1("Mul", [rotating, cos], name: n + "/MulCos")
        let withSin = c.emit1("Mul", [rotated, sin], name: n + "/MulSin")
        if partial {
            let sum = c.emit1("Add", [withCos, withSin], name: n + "/Add")
            let passing = slice(x, width, Int(Int64.max), "SlicePass")
            c.emit("Concat", [sum, passing], [c.output(node)], name: n + "/Concat", attributes: [.init("axis", .int(-1))])
        } else {
            c.emit("Add", [withCos, withSin], [c.output(node)], name: n + "/Add")
        }
    }
}
