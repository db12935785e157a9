/// The functional API frontends build graphs with: inputs, weights, literals and ops, under name
/// scopes so every node says where it sits (`/encoder/layer.0/attention/query/MatMul`).
///
/// Types are inferred as each node is added (`ShapeRules`), so a shape error surfaces at the line
/// of the architecture that caused it, naming the node.
public final class GraphBuilder {
    public let graph: Graph
    private var scopes: [String] = []
    private var usedNodeNames: Set<String> = []
    private var weightNames: [String: TensorData] = [:]
    private var weightValues: [TensorData: Value] = [:]
    private var literalValues: [TensorData: Value] = [:]

    public init(name: String) { graph = Graph(name: name) }

    /// The current scope path, e.g. `/encoder/layer.0`.
    public var scopePath: String { scopes.isEmpty ? "" : "/" + scopes.joined(separator: "/") }

    /// Runs `body` with `name` appended to the scope of every node it creates.
    public func scope<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        scopes.append(name)
        defer { scopes.removeLast() }
        return try body()
    }

    /// Declares a graph input with its (symbolic) type.
    public func input(_ name: String, _ type: TensorType) -> Value {
        let v = graph.addValue(name: name, type: type, origin: .input)
        graph.inputs.append(v)
        return v
    }

    /// A checkpoint weight, named after its checkpoint tensor. The same tensor asked for twice is
    /// one value; a different tensor under a taken name gets a suffix.
    public func weight(_ data: TensorData, name: String) -> Value {
        if let v = weightValues[data] { return v }
        var unique = name
        var k = 1
        while let existing = weightNames[unique], existing != data { unique = "\(name).\(k)"; k += 1 }
        weightNames[unique] = data
        let v = graph.addValue(name: unique, type: TensorType(data.dtype, data.shape.map { .fixed($0) }), origin: .constant(data))
        weightValues[data] = v
        return v
    }

    /// A small constant made by the graph itself; identical literals are shared graph-wide.
    public func literal(_ data: TensorData) -> Value {
        if let v = literalValues[data] { return v }
        let v = graph.addValue(name: "/Constant_\(literalValues.count)", type: TensorType(data.dtype, data.shape.map { .fixed($0) }),
                               origin: .constant(data))
        graph[v].symbolicContents = ShapeRules.int64Contents(data)?.map { Dim.fixed($0) }
        literalValues[data] = v
        return v
    }

    /// A float32 scalar literal (shape `[]`, broadcasts everywhere).
    public func scalar(_ x: Float) -> Value { literal(.float32([x], shape: [])) }

    /// An int64 literal of shape `[values.count]`, or `[]` when `scalar`.
    public func int64s(_ values: [Int], scalar: Bool = false) -> Value {
        literal(.int64(values.map(Int64.init), shape: scalar ? [] : [values.count]))
    }

    /// Adds a node and returns its outputs. `name` defaults to the op's kind.
    @discardableResult
    public func apply(_ op: Op, _ inputs: [Value?], name: String? = nil) throws -> [Value] {
        let nodeName = uniqueNodeName(name ?? op.kind)
        let inferred = try ShapeRules.infer(op, inputs.map { $0.map { graph[$0] } }, node: nodeName)
        let index = graph.nodes.count
        var outputs: [Value] = []
        for (k, t) in inferred.enumerated() {
            let v = graph.addValue(name: "\(nodeName)_output_\(k)", type: t.type, origin: .node(index, index: k))
            graph[v].symbolicContents = t.symbolicContents
            outputs.append(v)
        }
        graph.nodes.append(Node(op: op, name: nodeName, inputs: inputs, outputs: outputs))
        return outputs
    }

    /// Adds a single-output node.
    public func node(_ op: Op, _ inputs: Value?..., name: String? = nil) throws -> Value {
        try apply(op, inputs, name: name)[0]
    }

    /// Marks `v` as a graph output called `name` (`logits`, `last_hidden_state`, ...), with the
    /// declared type when one is given (its symbolic axes win over inferred unknown ones).
    public func output(_ v: Value, name: String, declared: TensorType? = nil) throws {
        if let declared {
            let inferred = graph.type(of: v)
            guard inferred.dtype == declared.dtype, inferred.rank == declared.rank,
                  zip(inferred.shape, declared.shape).allSatisfy({ ShapeRules.compatible($0, $1) }) else {
                throw ExportError("output '\(name)': the graph computes \(inferred) but the task declares \(declared)")
            }
            graph[v].type = declared
        }
        graph[v].name = name
        graph.outputs.append(v)
    }

    private func uniqueNodeName(_ base: String) -> String {
        let stem = scopePath + "/" + base
        var candidate = stem
        var k = 1
        while usedNodeNames.contains(candidate) { candidate = "\(stem)_\(k)"; k += 1 }
        usedNodeNames.insert(candidate)
        return candidate
    }
}
