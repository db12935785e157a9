/// Stores the weights of matrix products block-quantized (`--quantize int4|int8`): every
/// `matMul` / `matMulTransposed` whose right operand is a 2-D checkpoint weight (attention and
/// MLP projections, classifier and LM heads) becomes a `blockQuantizedMatMul`, whose packed
/// values, scales and zero points are computed from the weight as it streams to the output.
///
/// What stays float: embeddings (read by `gather`, which has no quantized form in the standard
/// ops), norms, biases, and constants the graph computes itself. A tied embedding is therefore
/// stored twice, in float for the lookup and quantized for the head, and a weight several
/// products read (ALBERT's shared layers) is quantized once.
///
/// It runs after `ReducePrecision`, on the types the model computes in: the scales take the
/// activations' type (MatMulNBits wants them so: float16 scales in a `--dtype fp16` export), and
/// are rounded to it before the values are quantized with them. The source is the checkpoint's
/// own matrix (a float32 weight narrowed for a float16 export is quantized from its float32
/// values), read in MatMulNBits' `[N, K]` layout: `nn.Linear`'s `[out, in]` as stored, so a
/// weight the frontend transposed while streaming is quantized from its untransposed source.
public enum QuantizeWeights {
    /// Returns the number of products rewritten.
    @discardableResult
    public static func run(_ graph: Graph, _ quantization: BlockQuantization, accuracyLevel: Int) throws -> Int {
        try checkAccuracyLevel(accuracyLevel)
        // By source and scale type: a weight read both ways (Transformer-XL's projections shared by
        // the input embedding and the adaptive softmax) is two matrices, each quantized once.
        var quantized: [TensorData: [DataType: [Value]]] = [:]
        var rewritten = 0
        for i in graph.nodes.indices {
            let node = graph.nodes[i]
            guard let (a, weight, source) = try candidate(node, graph) else { continue }
            let activations = graph.type(of: a).dtype
            let name = graph[weight].name
            let values = try quantized[source]?[activations] ?? {
                let parts = try quantization.tensors(of: source, scaleType: activations)
                let named: [(TensorData?, String)] = [(parts.packed, "_Q\(quantization.bits)"), (parts.scales, "_scales"),
                                                      (parts.zeroPoints, "_zero_points")]
                return named.compactMap { data, suffix in
                    data.map { graph.addValue(name: name + suffix, type: TensorType($0.dtype, $0.shape.map { .fixed($0) }), origin: .constant($0)) }
                }
            }()
            quantized[source, default: [:]][activations] = values
            graph.nodes[i].op = .blockQuantizedMatMul(quantization, k: source.shape[1], n: source.shape[0], accuracyLevel: accuracyLevel)
            graph.nodes[i].inputs = [a] + values.map { Optional($0) }
            rewritten += 1
        }
        return rewritten
    }

    /// Refuses an accuracy level MatMulNBits does not define.
    public static func checkAccuracyLevel(_ level: Int) throws {
        guard (0...4).contains(level) else {
            throw ExportError("the accuracy level is 0 (unset), 1 (float32), 2 (float16), 3 (bfloat16) or 4 (int8 activations), not \(level)")
        }
    }

    /// The activations, the weight value and its `[N, K]` source, when `node` multiplies by a
    /// checkpoint matrix MatMulNBits can take.
    private static func candidate(_ node: Node, _ graph: Graph) throws -> (Value, Value, TensorData)? {
        guard node.inputs.count == 2, let a = node.inputs[0], let w = node.inputs[1], let data = graph[w].constantData,
              data.inlineBytes == nil, data.shape.count == 2, data.elementCount > 0,
              data.dtype == graph.type(of: a).dtype, BlockQuantization.isKernelType(data.dtype), graph.type(of: a).rank >= 2 else { return nil }
        switch node.op {
        case .matMulTransposed: return (a, w, storedSource(data))
        case .matMul: return (a, w, try storedSource(data).untransposed())
        default: return nil
        }
    }

    /// The matrix as the checkpoint stores it: conversions to the export's type dropped (the
    /// quantizer reads float32 and rounds once, to the packed values).
    private static func storedSource(_ data: TensorData) -> TensorData {
        if case .transformed(let base, .convert) = data.storage, base.shape == data.shape { return storedSource(base) }
        return data
    }
}
