import ONNXExportIR

/// onnxruntime's fused decoder operators (`--target onnxruntime`), contrib domain version 1:
/// `GroupQueryAttention` and `SkipSimplifiedLayerNormalization`. The IR ops exist only in graphs
/// built for that target; the domain enters `opset_import` only when they are emitted.
enum RuntimeFusedLowering {
    static let rules: [String: [LoweringRule]] = [
        "GroupQueryAttention": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .groupQueryAttention(let heads, let keyValueHeads, let scale, let rotary) = node.op else { return }
            c.emit("GroupQueryAttention", c.inputNames(node), c.outputNames(node), name: node.name, domain: Opsets.microsoftDomain,
                   attributes: [.init("num_heads", .int(Int64(heads))), .init("kv_num_heads", .int(Int64(keyValueHeads))),
                                .init("scale", .float(scale)), .init("do_rotary", .int(rotary ? 1 : 0)),
                                .init("rotary_interleaved", .int(0)), .init("local_window_size", .int(-1))])
        }],
        // Outputs: normalised, mean and inverse deviation (not wanted), then the sum.
        "SkipRMSNorm": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .skipRMSNorm(let epsilon) = node.op else { return }
            let outputs = c.outputNames(node)
            c.emit("SkipSimplifiedLayerNormalization", c.inputNames(node), [outputs[0], "", "", outputs[1]], name: node.name,
                   domain: Opsets.microsoftDomain, attributes: [.init("epsilon", .float(epsilon))])
        }],
    ]
}
