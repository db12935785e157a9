/// Rewrites a float32 graph to compute in float16 or bfloat16: `--dtype fp16`.
///
/// What becomes narrow is what carries the model's numbers: checkpoint weights (converted while
/// they stream, or copied as they are when the checkpoint was saved in that type), float graph
/// inputs (the KV cache), and everything computed from them. What is derived only from integer
/// inputs and literals stays float32 and meets the narrow part through a Cast: rotary angles
/// (`position · inverse frequency` loses whole radians in float16 past a few hundred positions)
/// and attention masks (float32's lowest value means "masked"). Ops whose arithmetic needs float32
/// do it inside their own lowering: LayerNorm and RMSNorm statistics, attention scores and
/// softmax, rotary embeddings. Graph outputs are cast back to float32 (logits, hidden states), except those `keep`
/// names, which stay narrow because they are fed back as inputs (`present.N.key`).
public enum ReducePrecision {
    /// Returns the number of Cast nodes inserted.
    @discardableResult
    public static func run(_ graph: Graph, to narrow: DataType, keepingOutputs keep: (String) -> Bool) throws -> Int {
        guard narrow == .float16 || narrow == .bfloat16 else {
            throw ExportError("precision can be reduced to float16 or bfloat16, not \(narrow)")
        }
        var rewriter = Rewriter(graph: graph, narrow: narrow)
        rewriter.narrowSources()
        let nodes = graph.nodes
        graph.nodes = []
        for var node in nodes {
            rewriter.rewrite(&node)
            graph.nodes.append(node)
        }
        rewriter.widenOutputs(keep: keep)
        graph.reindexOrigins()
        return rewriter.castCount
    }

    /// Inputs an op reads at full precision whatever the rest of it computes in: the additive
    /// mask of attention, which its lowering adds to float32 scores, and the rotary cos/sin
    /// tables, which its lowering applies in float32.
    static func keepsWide(_ op: Op, slot: Int) -> Bool {
        switch op {
        case .attention, .headAttention: return slot == 3
        case .rotaryEmbedding: return slot == 1 || slot == 2
        case .cast: return true
        default: return false
        }
    }

    private struct Rewriter {
        let graph: Graph
        let narrow: DataType
        var isNarrow = Set<Int>()
        var narrowed: [Int: Value] = [:]
        var castCount = 0

        init(graph: Graph, narrow: DataType) { self.graph = graph; self.narrow = narrow }

        /// Float graph inputs and checkpoint weights take the narrow type.
        mutating func narrowSources() {
            for v in graph.inputs where graph.type(of: v).dtype == .float32 {
                graph[v].type.dtype = narrow
                isNarrow.insert(v.id)
            }
            for (v, data) in graph.constants where data.dtype == .float32 && data.inlineBytes == nil {
                // Only float tensors reach here; their conversion cannot fail.
                guard let converted = try? data.converted(to: narrow) else { continue }
                graph[v].origin = .constant(converted)
                graph[v].type.dtype = narrow
                isNarrow.insert(v.id)
            }
        }

        /// A node reading any narrow value computes narrow: its other float inputs are narrowed
        /// (literals converted, computed values cast) and its float outputs become narrow.
        mutating func rewrite(_ node: inout Node) {
            let slots = node.inputs.indices.filter { i in
                guard let v = node.inputs[i] else { return false }
                return !keepsWide(node.op, slot: i) && graph.type(of: v).dtype.isFloatingPoint
            }
            guard slots.contains(where: { node.inputs[$0].map { isNarrow.contains($0.id) } ?? false }) else { return }
            for i in slots {
                guard let v = node.inputs[i], !isNarrow.contains(v.id), graph.type(of: v).dtype == .float32 else { continue }
                node.inputs[i] = narrowedValue(v, for: node)
            }
            for out in node.outputs where graph.type(of: out).dtype == .float32 {
                graph[out].type.dtype = narrow
                isNarrow.insert(out.id)
            }
        }

        /// `v` in the narrow type, made once however many nodes ask.
        private mutating func narrowedValue(_ v: Value, for node: Node) -> Value {
            if let done = narrowed[v.id] { return done }
            let info = graph[v]
            var type = info.type
            type.dtype = narrow
            let result: Value
            if let data = info.constantData, let converted = try? data.converted(to: narrow) {
                result = graph.addValue(name: info.name, type: type, origin: .constant(converted))
            } else {
                result = graph.addValue(name: "\(info.name)_\(narrow)", type: type, origin: .input)
                let scope = info.name.hasPrefix("/") ? info.name : node.name
                graph.nodes.append(Node(op: .cast(narrow), name: "\(scope)/CastTo\(narrow.capitalizedName)", inputs: [v], outputs: [result]))
                castCount += 1
            }
            isNarrow.insert(result.id)
            narrowed[v.id] = result
            return result
        }

        /// Narrow graph outputs are cast back to float32 under their public names, except those
        /// fed back as inputs.
        mutating func widenOutputs(keep: (String) -> Bool) {
            for (k, v) in graph.outputs.enumerated() where isNarrow.contains(v.id) && !keep(graph[v].name) {
                let name = graph[v].name
                var type = graph[v].type
                type.dtype = .float32
                graph[v].name = "\(name)_\(narrow)"
                let wide = graph.addValue(name: name, type: type, origin: .input)
                graph.nodes.append(Node(op: .cast(.float32), name: "/\(name)/CastToFloat32", inputs: [v], outputs: [wide]))
                graph.outputs[k] = wide
                castCount += 1
            }
        }
    }
}
