import ONNXExportIR

/// LayerNorm (native from opset 17, mean/variance formula below), Softmax, LogSoftmax, ReduceMean and ReduceMax.
enum NormalizationLowering {
    static let rules: [String: [LoweringRule]] = [
        "LayerNorm": [
            LoweringRule(since: 17) { node, c in
                guard case .layerNorm(let epsilon) = node.op else { return }
                c.emit("LayerNormalization", c.inputNames(node), c.outputNames(node), name: node.name,
                       attributes: [.init("axis", .int(-1)), .init("epsilon", .float(epsilon))])
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .layerNorm(let epsilon) = node.op else { return }
                decomposeLayerNorm(node, epsilon, c)
            },
        ],
        "RMSNorm": [
            LoweringRule(since: 23) { node, c in
                guard case .rmsNorm(let epsilon) = node.op else { return }
                c.emit("RMSNormalization", c.inputNames(node), c.outputNames(node), name: node.name,
                       attributes: [.init("axis", .int(-1)), .init("epsilon", .float(epsilon))])
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard case .rmsNorm(let epsilon) = node.op else { return }
                decomposeRMSNorm(node, epsilon, c)
            },
        ],
        "Softmax": perRow("Softmax", widening: false) { if case .softmax(let axis) = $0 { return axis } else { return nil } },
        // Log-probabilities over a vocabulary (Transformer-XL's adaptive softmax) in float32
        // whatever the input's type, as the attention softmax: a float16 log-sum-exp loses the tail.
        "LogSoftmax": perRow("LogSoftmax", widening: true) { if case .logSoftmax(let axis) = $0 { return axis } else { return nil } },
        "ReduceMean": [reduceRule],
        "ReduceMax": [reduceRule],
    ]

    /// Softmax and LogSoftmax: native with `axis` from opset 13. Before 13 both flatten the input
    /// to 2-D at `axis`, the same as a per-row softmax only when `axis` is the last one, so an
    /// inner axis is refused there. With `widening`, a float16/bfloat16 input is cast to float32
    /// and the result back.
    static func perRow(_ opType: String, widening: Bool, axis: @escaping (Op) -> Int?) -> [LoweringRule] {
        func emit(_ node: Node, _ c: LoweringContext, axis: Int) {
            let type = c.dtype(node.inputs[0]), n = node.name
            guard widening, type != .float32 else {
                c.emit(opType, c.inputNames(node), c.outputNames(node), name: n, attributes: [.init("axis", .int(Int64(axis)))])
                return
            }
            let x = c.cast(c.name(node.inputs[0]), from: type, to: .float32, name: n + "/CastToFloat32")
            let y = c.emit1(opType, [x], name: n, attributes: [.init("axis", .int(Int64(axis)))])
            c.cast(y, from: .float32, to: type, name: n + "/CastBack", into: c.output(node))
        }
        return [
            LoweringRule(since: 13) { node, c in
                guard let a = axis(node.op) else { return }
                emit(node, c, axis: a)
            },
            LoweringRule(since: Opsets.oldest) { node, c in
                guard let a = axis(node.op) else { return }
                let rank = c.rank(node.inputs[0])
                guard a == -1 || a == rank - 1 else {
                    throw ExportError("node \(node.name): \(opType) over axis \(a) of a rank-\(rank) tensor needs opset 13 or newer")
                }
                emit(node, c, axis: -1)
            },
        ]
    }

    /// ReduceMean and ReduceMax, the same op at every opset but for where the axes go.
    static let reduceRule = LoweringRule(since: Opsets.oldest) { node, c in
        guard case .reduce(let reduction, let axes, let keep) = node.op else { return }
        _ = c.reduce(reduction, c.name(node.inputs[0]), axes: axes, keepDims: keep, output: c.output(node), name: node.name)
    }

    /// `scale · x / √(mean(x²) + ε)` over the last axis, as transformers' RMSNorm computes it.
    /// Statistics in float32 (a float16 input is cast up and the normalised result back, as
    /// transformers' RMSNorm does), the scale in the input's type.
    static func decomposeRMSNorm(_ node: Node, _ epsilon: Float, _ c: LoweringContext) {
        let n = node.name, type = c.dtype(node.inputs[0])
        let x = c.cast(c.name(node.inputs[0]), from: type, to: .float32, name: n + "/CastToFloat32")
        let squared = c.emit1("Mul", [x, x], name: n + "/Square")
        let meanSquare = c.reduce(.mean, squared, axes: [-1], keepDims: true, name: n + "/ReduceMean")
        let shifted = c.emit1("Add", [meanSquare, c.scalar(epsilon)], name: n + "/AddEpsilon")
        let rms = c.emit1("Sqrt", [shifted], name: n + "/Sqrt")
        let inverse = c.emit1("Reciprocal", [rms], name: n + "/Reciprocal")
        let normalized = c.cast(c.emit1("Mul", [x, inverse], name: n + "/Mul"), from: .float32, to: type, name: n + "/CastBack")
        c.emit("Mul", [c.name(node.inputs[1]), normalized], [c.output(node)], name: n + "/MulScale")
    }

    /// `(x − mean) / √(var + ε) · scale + bias` over the last axis, variance biased as torch's.
    /// Statistics in float32 whatever the input's type (what LayerNormalization's `stash_type`
    /// does natively), scale and bias in the input's type.
    static func decomposeLayerNorm(_ node: Node, _ epsilon: Float, _ c: LoweringContext) {
        let n = node.name, type = c.dtype(node.inputs[0])
        let x = c.cast(c.name(node.inputs[0]), from: type, to: .float32, name: n + "/CastToFloat32")
        let mean = c.reduce(.mean, x, axes: [-1], keepDims: true, name: n + "/ReduceMean")
        let centered = c.emit1("Sub", [x, mean], name: n + "/Sub")
        let squared = c.emit1("Mul", [centered, centered], name: n + "/Square")
        let variance = c.reduce(.mean, squared, axes: [-1], keepDims: true, name: n + "/ReduceMean_1")
        let shifted = c.emit1("Add", [variance, c.scalar(epsilon)], name: n + "/AddEpsilon")
        let std = c.emit1("Sqrt", [shifted], name: n + "/Sqrt")
        let normalized = c.cast(c.emit1("Div", [centered, std], name: n + "/Div"), from: .float32, to: type, name: n + "/CastBack")
        let hasBias = node.inputs.count > 2 && node.inputs[2] != nil
        if hasBias {
            let scaled = c.emit1("Mul", [normalized, c.name(node.inputs[1])], name: n + "/MulScale")
            c.emit("Add", [scaled, c.name(node.inputs[2])], [c.output(node)], name: n + "/AddBias")
        } else {
            c.emit("Mul", [normalized, c.name(node.inputs[1])], [c.output(node)], name: n + "/MulScale")
        }
    }
}
