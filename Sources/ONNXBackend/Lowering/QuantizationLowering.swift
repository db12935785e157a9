import ONNXExportIR

/// Block-quantized matrix products as onnxruntime's `com.microsoft.MatMulNBits` (contrib domain,
/// version 1): no standard op takes packed 4- or 8-bit weights with per-block scales. The domain
/// enters the model's `opset_import` only when such a node is emitted (`ModelLowering`).
enum QuantizationLowering {
    static let rules: [String: [LoweringRule]] = [
        "BlockQuantizedMatMul": [LoweringRule(since: Opsets.oldest) { node, c in
            guard case .blockQuantizedMatMul(let quantization, let k, let n, let accuracyLevel) = node.op else { return }
            let attributes: [ONNXAttributeSpec] = [
                .init("K", .int(Int64(k))), .init("N", .int(Int64(n))), .init("bits", .int(Int64(quantization.bits))),
                .init("block_size", .int(Int64(quantization.blockSize))), .init("accuracy_level", .int(Int64(accuracyLevel))),
            ]
            c.emit("MatMulNBits", c.inputNames(node), c.outputNames(node), name: node.name, domain: Opsets.microsoftDomain,
                   attributes: attributes)
        }],
    ]
}
