import ONNXExportIR

/// Shape and indexing ops. Their attributes moved to inputs over the opsets (Unsqueeze and
/// Squeeze `axes` at 13); the rules here write whichever form the target opset takes.
enum ShapeLowering {
    static let rules: [String: [LoweringRule]] = [
        "Reshape": [LoweringRule(since: Opsets.oldest) { node, c in
            if case .reshape(let shape) = node.op {
                c.emit("Reshape", [c.name(node.inputs[0]), c.int64s(shape)], c.outputNames(node), name: node.name)
            } else {
                c.emit("Reshape", c.inputNames(node), c.outputNames(node), name: node.name)
            }
        }],
        "Flatten": [direct("Flatten") { node in
            guard case .flatten(let axis) = node.op else { return [] }
            return [.init("axis", .int(Int64(axis)))]
        }],
        "Transpose": [direct("Transpose") { node in
            guard case .transpose(let perm) = node.op else { return [] }
            return [.init("perm", .ints(perm.map(Int64.init)))]
        }],
        "Unsqueeze": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .unsqueeze(let axes) = node.op else { return }
            _ = c.axesOp("Unsqueeze", c.name(node.inputs[0]), axes: axes, output: c.output(node), name: node.name)
        }],
        "Squeeze": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .squeeze(let axes) = node.op else { return }
            _ = c.axesOp("Squeeze", c.name(node.inputs[0]), axes: axes, output: c.output(node), name: node.name)
        }],
        "Gather": [direct("Gather") { node in
            guard case .gather(let axis) = node.op else { return [] }
            return [.init("axis", .int(Int64(axis)))]
        }],
        "GatherElements": [direct("GatherElements") { node in
            guard case .gatherElements(let axis) = node.op else { return [] }
            return [.init("axis", .int(Int64(axis)))]
        }],
        "Concat": [direct("Concat") { node in
            guard case .concat(let axis) = node.op else { return [] }
            return [.init("axis", .int(Int64(axis)))]
        }],
        "Slice": [direct("Slice")],
        "Range": [direct("Range")],
        "ArgMax": [direct("ArgMax") { node in
            guard case .argMax(let axis, let keep) = node.op else { return [] }
            return [.init("axis", .int(Int64(axis))), .init("keepdims", .int(keep ? 1 : 0))]
        }],
        "Shape": [direct("Shape")],
        "Expand": [direct("Expand")],
        "CumSum": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .cumSum(let axis) = node.op else { return }
            c.emit("CumSum", [c.name(node.inputs[0]), c.constant(.int64([Int64(axis)], shape: []))], c.outputNames(node), name: node.name)
        }],
    ]
}
