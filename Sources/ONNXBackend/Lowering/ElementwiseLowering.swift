import ONNXExportIR

/// Elementwise ops, MatMul, the 1-D convolution, and GELU (native from opset 20, the erf or tanh formula below).
enum ElementwiseLowering {
    static let rules: [String: [LoweringRule]] = {
        var r: [String: [LoweringRule]] = [:]
        for op in ["Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "And", "Or", "Where", "Neg", "Not",
                   "Sqrt", "Reciprocal", "Exp", "Log", "Tanh", "Erf", "Sigmoid", "Relu", "Softplus", "Cos", "Sin", "MatMul", "Identity"] {
            r[op] = [direct(op)]
        }
        r["Cast"] = [direct("Cast") { node in
            guard case .cast(let to) = node.op else { return [] }
            return [.init("to", .int(Int64(to.rawValue)))]
        }]
        r["Conv"] = [direct("Conv") { node in
            guard case .conv1D(let padding, let groups) = node.op else { return [] }
            return [.init("pads", .ints([Int64(padding), Int64(padding)])), .init("group", .int(Int64(groups)))]
        }]
        r["SaturateFloat16"] = [LoweringRule(since: Opsets.oldest) { node, c in lowerSaturateFloat16(node, c) }]
        r["MatMulTransposed"] = [LoweringRule(since: Opsets.oldest) { node, c in lowerMatMulTransposed(node, c) }]
        r["Gelu"] = [
            LoweringRule(since: 20) { node, c in
                guard case .gelu(let approximation) = node.op else { return }
                c.emit("Gelu", c.inputNames(node), c.outputNames(node), name: node.name,
                       attributes: approximation == .tanh ? [.init("approximate", .string("tanh"))] : [])
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .gelu(let approximation) = node.op else { return }
                decomposeGelu(node, approximation, c)
            },
        ]
        return r
    }()

    /// T5's float16 guard: `limit = any(isinf(x)) ? 64512 : 65504`, then `min(max(x, −limit), limit)`
    /// (65504 leaves every finite value as it is). Other types pass through an Identity.
    static func lowerSaturateFloat16(_ node: Node, _ c: LoweringContext) {
        let x = c.name(node.inputs[0]), n = node.name
        guard c.dtype(node.inputs[0]) == .float16 else {
            c.emit("Identity", [x], [c.output(node)], name: n)
            return
        }
        // |x| == ∞ rather than IsInf, which takes float16 only from opset 20.
        let magnitude = c.emit1("Abs", [x], name: n + "/Abs")
        let isInfinite = c.emit1("Equal", [magnitude, c.scalar(.infinity, .float16)], name: n + "/IsInf")
        let infinite = c.emit1("Cast", [isInfinite], name: n + "/CastInfinite",
                               attributes: [.init("to", .int(Int64(DataType.float16.rawValue)))])
        let anyInfinite = c.emit1("ReduceMax", [infinite], name: n + "/AnyInfinite", attributes: [.init("keepdims", .int(0))])
        let limit = c.emit1("Where", [c.emit1("Greater", [anyInfinite, c.scalar(0, .float16)], name: n + "/HasInfinity"),
                                      c.scalar(64512, .float16), c.scalar(65504, .float16)], name: n + "/Limit")
        let low = c.emit1("Max", [x, c.emit1("Neg", [limit], name: n + "/NegLimit")], name: n + "/ClampLow")
        c.emit("Min", [low, limit], [c.output(node)], name: n + "/ClampHigh")
    }

    /// `a · bᵀ` as `Gemm(transB = 1)`, which every opset has and runtimes execute without
    /// materialising the transpose; inputs of rank > 2 are flattened to [rows, K] and the product
    /// reshaped back to `a`'s leading axes.
    static func lowerMatMulTransposed(_ node: Node, _ c: LoweringContext) {
        let a = c.name(node.inputs[0]), b = c.name(node.inputs[1]), n = node.name
        let rank = c.rank(node.inputs[0])
        let transB: [ONNXAttributeSpec] = [.init("transB", .int(1))]
        guard rank != 2 else {
            c.emit("Gemm", [a, b], [c.output(node)], name: n + "/Gemm", attributes: transB)
            return
        }
        let k = c.fixedDim(node, input: 1, axis: 1) ?? -1, width = c.fixedDim(node, input: 1, axis: 0) ?? -1
        let rows = c.emit1("Reshape", [a, c.int64s([-1, k])], name: n + "/Flatten")
        let product = c.emit1("Gemm", [rows, b], name: n + "/Gemm", attributes: transB)
        // The output shape is computed once per graph for each set of leading axes and width:
        // equal declared dims (`batch_size`, `sequence_length`) are equal at run time.
        let leadingDims = Array((node.inputs[0].map { c.graph.type(of: $0).shape } ?? []).dropLast())
        let key = !leadingDims.isEmpty && leadingDims.allSatisfy(\.isKnown) ? "\(leadingDims)" : n
        let shape = c.derived("gemm-output-shape:\(key):\(width)") {
            let leading = c.derived("leading-axes:\(key)") {
                c.emit1("Slice", [c.emit1("Shape", [a], name: n + "/Shape"), c.int64s([0]), c.int64s([rank - 1]), c.int64s([0])],
                        name: n + "/LeadingAxes")
            }
            return c.emit1("Concat", [leading, c.int64s([width])], name: n + "/OutputShape", attributes: [.init("axis", .int(0))])
        }
        c.emit("Reshape", [product, shape], [c.output(node)], name: n + "/Reshape")
    }

    /// erf form: `(x · (erf(x / √2) + 1)) · ½` — the exact node pattern torch.onnx writes, which
    /// onnxruntime's GeluFusion recognises (and then fuses with the preceding bias into BiasGelu).
    /// tanh form: `(½x) · (1 + tanh((√(2/π)·x) · (1 + 0.044715·x·x)))`, the same polynomial as
    /// `x + 0.044715 x³` factored the way onnxruntime's FastGeluFusion matches it, so the ten
    /// nodes run as one FastGelu kernel.
    static func decomposeGelu(_ node: Node, _ approximation: GeluApproximation, _ c: LoweringContext) {
        let x = c.name(node.inputs[0]), n = node.name, t = c.dtype(node.inputs[0])
        switch approximation {
        case .none:
            let scaled = c.emit1("Div", [x, c.scalar(Float(2).squareRoot(), t)], name: n + "/Div")
            let erf = c.emit1("Erf", [scaled], name: n + "/Erf")
            let onePlus = c.emit1("Add", [erf, c.scalar(1, t)], name: n + "/Add")
            let product = c.emit1("Mul", [x, onePlus], name: n + "/Mul")
            c.emit("Mul", [product, c.scalar(0.5, t)], [c.output(node)], name: n + "/Mul_1")
        case .tanh:
            let term = c.emit1("Mul", [x, c.scalar(0.044715, t)], name: n + "/MulCoefficient")
            let square = c.emit1("Mul", [term, x], name: n + "/MulX")
            let polynomial = c.emit1("Add", [square, c.scalar(1, t)], name: n + "/AddOne")
            let scaledX = c.emit1("Mul", [x, c.scalar((2 / Float.pi).squareRoot(), t)], name: n + "/MulSqrt2OverPi")
            let argument = c.emit1("Mul", [scaledX, polynomial], name: n + "/MulPolynomial")
            let tanh = c.emit1("Tanh", [argument], name: n + "/Tanh")
            let onePlus = c.emit1("Add", [tanh, c.scalar(1, t)], name: n + "/AddOne_1")
            let half = c.emit1("Mul", [x, c.scalar(0.5, t)], name: n + "/MulHalf")
            c.emit("Mul", [half, onePlus], [c.output(node)], name: n + "/Mul_1")
        }
    }
}
