/// Evaluates nodes whose inputs are all small in-memory constants (and `Shape` of a value whose
/// shape is fully fixed), replacing them with literals. It covers the shape arithmetic the
/// builder writes; anything else is left for the runtime. Weights are never read here.
public enum FoldConstants {
    /// Tensors above this many elements are not folded (folding is for shape-sized data).
    static let elementLimit = 4096

    @discardableResult
    public static func run(_ graph: Graph) throws -> Int {
        var folded = 0
        var literalIndex = 0
        for i in graph.nodes.indices {
            let node = graph.nodes[i]
            guard node.outputs.count == 1, let result = try evaluate(node, graph) else { continue }
            let out = node.outputs[0]
            let v = graph.addValue(name: "\(node.name)_folded_\(literalIndex)", type: graph.type(of: out), origin: .constant(result))
            graph[v].symbolicContents = ShapeRules.int64Contents(result)?.map { Dim.fixed($0) }
            literalIndex += 1
            if graph.outputs.contains(out) { continue }
            graph.replaceUses(of: out, with: v)
            folded += 1
        }
        if folded > 0 { EliminateDeadCode.run(graph) }
        return folded
    }

    private static func evaluate(_ node: Node, _ graph: Graph) throws -> TensorData? {
        let outType = graph.type(of: node.outputs[0])
        if case .shape = node.op, let x = node.inputs.first ?? nil {
            let dims = graph.type(of: x).shape.compactMap(\.fixedValue)
            guard dims.count == graph.type(of: x).rank else { return nil }
            return .int64(dims.map(Int64.init))
        }
        let datas = node.inputs.map { $0.flatMap { graph[$0].constantData } }
        guard !datas.isEmpty, datas.allSatisfy({ $0?.inlineBytes != nil && $0!.elementCount <= elementLimit }) else { return nil }
        let inputs = datas.compactMap { $0 }
        guard let shape = outType.fixedElementCount.map({ _ in outType.shape.compactMap(\.fixedValue) }) else { return nil }
        switch node.op {
        case .reshape, .unsqueeze, .squeeze:
            return TensorData(dtype: inputs[0].dtype, shape: shape, storage: inputs[0].storage)
        case .concat(let axis) where outType.rank == 1 && (axis == 0 || axis == -1):
            return TensorData(dtype: outType.dtype, shape: shape, storage: .inline(inputs.flatMap { $0.inlineBytes ?? [] }))
        case .gather(let axis) where inputs[0].shape.count == 1 && (axis == 0 || axis == -1):
            guard let src = ints(inputs[0]), let idx = ints(inputs[1]) else { return nil }
            let picked = idx.compactMap { k -> Int64? in
                let j = k < 0 ? Int(k) + src.count : Int(k)
                return (0..<src.count).contains(j) ? src[j] : nil
            }
            guard picked.count == idx.count else { return nil }
            return .int64(picked, shape: shape)
        case .add, .sub, .mul:
            guard let a = ints(inputs[0]), let b = ints(inputs[1]), a.count == b.count || a.count == 1 || b.count == 1 else { return nil }
            let n = max(a.count, b.count)
            let r: [Int64] = (0..<n).map { i in
                let x = a[a.count == 1 ? 0 : i], y = b[b.count == 1 ? 0 : i]
                return node.op == .add ? x &+ y : node.op == .sub ? x &- y : x &* y
            }
            return .int64(r, shape: shape)
        default:
            return nil
        }
    }

    private static func ints(_ d: TensorData) -> [Int64]? {
        guard d.dtype == .int64, let b = d.inlineBytes else { return nil }
        return stride(from: 0, to: b.count, by: 8).map { i in (0..<8).reduce(Int64(0)) { $0 | Int64(b[i + $1]) << (8 * $1) } }
    }
}
