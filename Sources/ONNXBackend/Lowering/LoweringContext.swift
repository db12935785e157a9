import ONNXExportIR

/// The state of lowering one graph: ONNX nodes emitted so far, initializers, unique names, and
/// the constants lowering rules create (axes, shapes, scalars), each written once per graph.
final class LoweringContext {
    let graph: Graph
    let opset: Int
    private(set) var nodes: [ONNXNodeSpec] = []
    private(set) var initializers: [ONNXInitializerSpec] = []
    private var initializerNames: [Int: String] = [:]
    private var sharedConstants: [TensorData: String] = [:]
    private var literalValues: [TensorData: Value] = [:]
    private var usedNames: Set<String> = []
    private var derivedValues: [String: String] = [:]

    init(graph: Graph, opset: Int) {
        self.graph = graph
        self.opset = opset
        // Names of computed values are taken up front; a constant claims its own name when first
        // used, so weights keep their checkpoint names.
        for info in graph.values where info.constantData == nil { usedNames.insert(info.name) }
        // Small literals the graph already holds serve lowering rules asking for the same bytes.
        let live = graph.liveValues()
        for (v, data) in graph.constants where live.contains(v.id) && data.inlineBytes != nil && literalValues[data] == nil {
            literalValues[data] = v
        }
    }

    /// The ONNX name of an IR value; constants become initializers on first use.
    func name(_ v: Value) -> String {
        guard let data = graph[v].constantData else { return graph[v].name }
        if let n = initializerNames[v.id] { return n }
        let n = unique(graph[v].name)
        initializers.append(ONNXInitializerSpec(name: n, data: data))
        initializerNames[v.id] = n
        return n
    }

    func name(_ v: Value?) -> String { v.map { name($0) } ?? "" }

    /// A constant created by a lowering rule, shared with every other rule asking for the same bytes.
    func constant(_ data: TensorData) -> String {
        if let v = literalValues[data] { return name(v) }
        if let n = sharedConstants[data] { return n }
        let n = unique("/Constant_\(sharedConstants.count)")
        initializers.append(ONNXInitializerSpec(name: n, data: data))
        sharedConstants[data] = n
        return n
    }

    func int64s(_ values: [Int]) -> String { constant(.int64(values.map(Int64.init))) }
    /// A float scalar of `dtype`: constants combined with float16 tensors must be float16 too.
    func scalar(_ x: Float, _ dtype: DataType = .float32) -> String { constant(.floatScalar(x, as: dtype)) }

    /// The element type of an IR value.
    func dtype(_ v: Value?) -> DataType { v.map { graph.type(of: $0).dtype } ?? .float32 }

    /// `x` cast to `dtype`, or `x` itself when it already is: the float32 islands of a reduced
    /// precision graph (normalisation statistics, attention softmax) enter and leave through it.
    /// With `output` the cast writes that value (a node's own output) instead of a new one.
    @discardableResult
    func cast(_ x: String, from: DataType, to: DataType, name: String, into output: String? = nil) -> String {
        let attributes: [ONNXAttributeSpec] = [.init("to", .int(Int64(to.rawValue)))]
        guard let output else { return from == to ? x : emit1("Cast", [x], name: name, attributes: attributes) }
        emit("Cast", [x], [output], name: name, attributes: attributes)
        return output
    }

    /// A value derived from others once per graph (e.g. half-width rotary tables every layer
    /// shares): `make` runs the first time `key` is asked for, later calls reuse its result.
    func derived(_ key: String, _ make: () -> String) -> String {
        if let name = derivedValues[key] { return name }
        let name = make()
        derivedValues[key] = name
        return name
    }

    /// A fresh name for an intermediate value made inside a decomposition.
    func temp(_ base: String) -> String { unique(base + "_output_0") }

    /// Emits one ONNX node. `name` is the IR node's scoped name plus, in decompositions, a suffix.
    @discardableResult
    func emit(_ opType: String, _ inputs: [String], _ outputs: [String], name: String,
              domain: String = "", attributes: [ONNXAttributeSpec] = []) -> [String] {
        nodes.append(ONNXNodeSpec(name: unique(name), opType: opType, domain: domain, inputs: inputs,
                                  outputs: outputs, attributes: attributes))
        return outputs
    }

    /// Emits a single-output node with a generated output name; returns that name.
    func emit1(_ opType: String, _ inputs: [String], name: String, attributes: [ONNXAttributeSpec] = []) -> String {
        let out = temp(name)
        emit(opType, inputs, [out], name: name, attributes: attributes)
        return out
    }

    private func unique(_ base: String) -> String {
        var candidate = base
        var k = 1
        while usedNames.contains(candidate) { candidate = "\(base)_\(k)"; k += 1 }
        usedNames.insert(candidate)
        return candidate
    }
}
