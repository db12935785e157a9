import ONNXExportIR

/// Multi-head attention as standard ops, the form every opset and runtime executes:
/// split heads, `softmax(Q·Kᵀ · scale + mask) · V`, merge heads. The scale multiplies the scores
/// after the product, as transformers' eager attention does, so rounding matches.
enum AttentionLowering {
    static let rules: [String: [LoweringRule]] = [
        "Attention": [
            // ONNX Attention (opset 23) takes [B, S, heads·d] inputs directly given the head counts.
            LoweringRule(since: 23) { node, c in
                guard case .attention(let heads, let scale) = node.op else { return }
                HeadAttentionLowering.native(node, scale: scale, c, queryAxis: 1, attributes: [
                    .init("q_num_heads", .int(Int64(heads))), .init("kv_num_heads", .int(Int64(heads))),
                ])
            },
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
        let scores = c.emit1("MatMul", [q, kT], name: n + "/MatMul")
        let mask = node.inputs.count > 3 ? node.inputs[3] : nil
        let probabilities = softmax(scores, scale: scale, mask: mask.map { (c.name($0), c.dtype($0)) }, type: c.dtype(node.inputs[0]), name: n, c)
        let context = c.emit1("MatMul", [probabilities, v], name: n + "/MatMul_1")
        let merged = c.emit1("Transpose", [context], name: n + "/Transpose", attributes: [.init("perm", .ints([0, 2, 1, 3]))])
        c.emit("Reshape", [merged, c.int64s([0, 0, -1])], [c.output(node)], name: n + "/Reshape")
    }

    /// `softmax(scores · scale + mask)` over the last axis, computed in float32 whatever the
    /// scores' type and cast back: float16 scores plus float32's "masked" value would overflow,
    /// and a float16 softmax loses the small probabilities (transformers upcasts it too).
    static func softmax(_ scores: String, scale: Float, mask: (name: String, type: DataType)?, type: DataType,
                        name n: String, _ c: LoweringContext) -> String {
        let wide = c.cast(scores, from: type, to: .float32, name: n + "/CastScoresToFloat32")
        var logits = c.emit1("Mul", [wide, c.scalar(scale)], name: n + "/MulScale")
        if let mask {
            let wideMask = c.derived("float32-mask:\(mask.name)") {
                c.cast(mask.name, from: mask.type, to: .float32, name: mask.name + "/CastToFloat32")
            }
            logits = c.emit1("Add", [logits, wideMask], name: n + "/AddMask")
        }
        let probabilities = c.emit1("Softmax", [logits], name: n + "/Softmax", attributes: [.init("axis", .int(-1))])
        return c.cast(probabilities, from: .float32, to: type, name: n + "/CastProbabilities")
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
                native(node, scale: scale, c)
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .headAttention(let scale) = node.op else { return }
                decompose(node, scale: scale, c)
            },
        ],
        "RotaryEmbedding": [
            LoweringRule(since: 23) { node, c in inFloat32(node, c, nativeRotary) },
            LoweringRule(since: Opsets.oldest) { node, c in inFloat32(node, c, decomposeRotary) },
        ],
    ]

    /// ONNX `Attention`. With float16 or bfloat16 inputs the softmax runs in float32
    /// (`softmax_precision`); a float32 mask is clipped once per graph to one ulp above the
    /// model type's lowest finite value and narrowed to it (an infinite mask turns a fully masked
    /// row into NaN). onnxruntime wants the mask's query axis spelled out: a
    /// `[B, 1, 1, T]` padding mask is expanded to `[B, 1, S, T]` once per graph, `S` read from
    /// the query's axis `queryAxis` (1 for `[B, S, heads·d]`, 2 for head-split queries).
    static func native(_ node: Node, scale: Float, _ c: LoweringContext, queryAxis: Int = 2,
                       attributes extra: [ONNXAttributeSpec] = []) {
        let type = c.dtype(node.inputs[0])
        var inputs = c.inputNames(node)
        if inputs.count > 3, let mask = node.inputs[3], c.graph.type(of: mask).rank == 4, c.graph.type(of: mask).shape[2] == .fixed(1) {
            let query = c.name(node.inputs[0]), full = c.name(mask)
            inputs[3] = c.derived("query-expanded:\(full)") {
                let length = c.emit1("Shape", [query], name: "/attention_mask/QueryLength",
                                     attributes: [.init("start", .int(Int64(queryAxis))), .init("end", .int(Int64(queryAxis + 1)))])
                let shape = c.emit1("Concat", [c.int64s([1, 1]), length, c.int64s([1])], name: "/attention_mask/ExpandShape",
                                    attributes: [.init("axis", .int(0))])
                return c.emit1("Expand", [full, shape], name: "/attention_mask/ExpandQueries")
            }
        }
        var attributes: [ONNXAttributeSpec] = extra + [.init("scale", .float(scale))]
        if type != .float32 {
            attributes.append(.init("softmax_precision", .int(Int64(DataType.float32.rawValue))))
        }
        if inputs.count > 3, let mask = node.inputs[3], c.dtype(mask) == .float32 {
            // onnxruntime's Attention kernel for opsets 23 and 24 reads an entry of exactly the
            // type's lowest as −∞ and returns zeros for a fully masked row, where transformers'
            // eager softmax (and its later kernels) give the uniform average; one ulp above it the
            // row is uniform everywhere. Narrowed masks clip first so "masked" stays finite.
            let wide = inputs[3]
            inputs[3] = c.derived("finite-mask:\(type):\(wide)") {
                let lowest: Float
                switch type {
                case .float16: lowest = -Float((-Float16.greatestFiniteMagnitude).nextUp.magnitude)
                case .bfloat16: lowest = -Float(bitPattern: 0x7f7e_0000)
                default: lowest = (-Float.greatestFiniteMagnitude).nextUp
                }
                let clipped = c.emit1("Max", [wide, c.scalar(lowest)], name: wide + "/ClipToLowest")
                return c.cast(clipped, from: .float32, to: type, name: wide + "/CastTo\(type.capitalizedName)")
            }
        }
        c.emit("Attention", inputs, c.outputNames(node), name: node.name, attributes: attributes)
    }

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
        let scores = c.emit1("MatMul", [q, kT], name: n + "/MatMul")
        let probabilities = AttentionLowering.softmax(scores, scale: scale, mask: mask.map { ($0, c.dtype(node.inputs[3])) },
                                                      type: c.dtype(node.inputs[0]), name: n, c)
        if group > 1 {
            let context = c.emit1("MatMul", [probabilities, v], name: n + "/MatMul_1")
            c.emit("Reshape", [context, c.int64s([0, hq, -1, c.graph.type(of: node.outputs[0]).shape[3].fixedValue ?? -1])],
                   [c.output(node)], name: n + "/MergeGroups")
        } else {
            c.emit("MatMul", [probabilities, v], [c.output(node)], name: n + "/MatMul_1")
        }
    }

    /// The rotation in float32 whatever `x`'s type: a float16 `x` is cast up and the result back
    /// (rounding both products and their sum to float16 doubled the error of a float16 export).
    /// The cos/sin tables are float32 already (a reduced-precision graph keeps them so); others
    /// are widened once per graph. `rotate` gets x, cos, sin and the output name.
    static func inFloat32(_ node: Node, _ c: LoweringContext,
                          _ rotate: (Node, _ x: String, _ cos: String, _ sin: String, _ output: String, LoweringContext) -> Void) {
        let type = c.dtype(node.inputs[0]), n = node.name
        func table(_ v: Value?) -> String {
            let name = c.name(v)
            return c.derived("float32-table:\(name)") { c.cast(name, from: c.dtype(v), to: .float32, name: name + "/CastToFloat32") }
        }
        let x = c.cast(c.name(node.inputs[0]), from: type, to: .float32, name: n + "/CastToFloat32")
        let output = type == .float32 ? c.output(node) : c.temp(n + "/Float32")
        rotate(node, x, table(node.inputs[1]), table(node.inputs[2]), output, c)
        if type != .float32 {
            c.cast(output, from: .float32, to: type, name: n + "/CastBack", into: c.output(node))
        }
    }

    /// ONNX RotaryEmbedding (opset 23) wants cos/sin as `[B, S, R/2]`: the first half of the
    /// duplicated `[B, 1, S, R]` tables, made once per graph and shared by every layer.
    static func nativeRotary(_ node: Node, x: String, cos: String, sin: String, output: String, _ c: LoweringContext) {
        let width = c.fixedDim(node, input: 1, axis: 3) ?? 0
        let headSize = c.fixedDim(node, input: 0, axis: 3) ?? width
        func half(_ full: String, _ label: String) -> String {
            c.derived("rotary-half:\(full)") {
                let sliced = c.emit1("Slice", [full, c.int64s([0]), c.int64s([width / 2]), c.int64s([-1])], name: "/rotary_emb/\(label)Half")
                return c.axesOp("Squeeze", sliced, axes: [1], name: "/rotary_emb/\(label)Squeeze")
            }
        }
        c.emit("RotaryEmbedding", [x, half(cos, "Cos"), half(sin, "Sin")], [output], name: node.name,
               attributes: width < headSize ? [.init("rotary_embedding_dim", .int(Int64(width)))] : [])
    }

    /// `x·cos + rotate_half(x)·sin` on the first R channels, where rotate_half(x) = [−x₂, x₁].
    static func decomposeRotary(_ node: Node, x: String, cos: String, sin: String, output: String, _ c: LoweringContext) {
        let n = node.name
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
            c.emit("Concat", [sum, passing], [output], name: n + "/Concat", attributes: [.init("axis", .int(-1))])
        } else {
            c.emit("Add", [withCos, withSin], [output], name: n + "/Add")
        }
    }
}
