/// A handle to an SSA value of a `Graph`.
public struct Value: Hashable, Sendable, CustomStringConvertible {
    public let id: Int
    public init(id: Int) { self.id = id }
    public var description: String { "%\(id)" }
}

/// What the graph knows of one value: its name, type, and where it comes from.
public struct ValueInfo: Sendable {
    public enum Origin: Hashable, Sendable {
        /// A graph input the caller feeds.
        case input
        /// A constant (weight or literal); its bytes are `TensorData`, read lazily.
        case constant(TensorData)
        /// Output `index` of node `node`.
        case node(Int, index: Int)
    }
    public var name: String
    public var type: TensorType
    public var origin: Origin
    /// For small int64 values computed from shapes (`Shape`, then `Gather`, `Concat`...): the
    /// elements as dims, so `Slice(..., ends: seqLen)` keeps `sequence_length` symbolic.
    public var symbolicContents: [Dim]?

    public var constantData: TensorData? { if case .constant(let d) = origin { return d } else { return nil } }
}

/// One operation: its op, inputs (nil = omitted optional input), outputs, and a scoped name such
/// as `/encoder/layer.3/attention/query/MatMul` that says where it sits.
public struct Node: Sendable {
    public var op: Op
    public var name: String
    public var inputs: [Value?]
    public var outputs: [Value]
    public init(op: Op, name: String, inputs: [Value?], outputs: [Value]) {
        self.op = op; self.name = name; self.inputs = inputs; self.outputs = outputs
    }
}

/// The typed graph: values, nodes in topological order, declared inputs and named outputs.
/// Passes rewrite it in place.
public final class Graph {
    public var name: String
    public private(set) var values: [ValueInfo] = []
    public var nodes: [Node] = []
    public var inputs: [Value] = []
    /// Graph outputs; the value's name is the public output name (`logits`, ...).
    public var outputs: [Value] = []

    public init(name: String) { self.name = name }

    public subscript(_ v: Value) -> ValueInfo {
        get { values[v.id] }
        set { values[v.id] = newValue }
    }

    public func type(of v: Value) -> TensorType { values[v.id].type }

    @discardableResult
    public func addValue(name: String, type: TensorType, origin: ValueInfo.Origin) -> Value {
        values.append(ValueInfo(name: name, type: type, origin: origin, symbolicContents: nil))
        return Value(id: values.count - 1)
    }

    /// The node producing `v`, if any.
    public func producer(of v: Value) -> Node? {
        if case .node(let n, _) = values[v.id].origin { return nodes[n] }
        return nil
    }

    /// For every value, the indices of the nodes that read it.
    public func users() -> [Int: [Int]] {
        var result: [Int: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for case let input? in node.inputs { result[input.id, default: []].append(i) }
        }
        return result
    }

    /// Values reachable from the outputs (what dead-code elimination keeps).
    public func liveValues() -> Set<Int> {
        var live = Set<Int>()
        var stack = outputs.map(\.id)
        while let id = stack.popLast() {
            guard live.insert(id).inserted else { continue }
            if case .node(let n, _) = values[id].origin {
                for case let input? in nodes[n].inputs { stack.append(input.id) }
            }
        }
        return live
    }

    /// Re-points node origins after `nodes` was filtered or reordered.
    public func reindexOrigins() {
        for (i, node) in nodes.enumerated() {
            for (k, out) in node.outputs.enumerated() { values[out.id].origin = .node(i, index: k) }
        }
    }

    /// Replaces every use of `old` (in nodes and outputs) with `new`.
    public func replaceUses(of old: Value, with new: Value) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == old { nodes[i].inputs[j] = new }
        }
        for i in outputs.indices where outputs[i] == old { outputs[i] = new }
    }

    /// Every constant value the graph holds.
    public var constants: [(Value, TensorData)] {
        values.indices.compactMap { i in values[i].constantData.map { (Value(id: i), $0) } }
    }
}
