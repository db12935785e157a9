import ONNXExportIR

/// A lowered ONNX model, opset-specific and ready to serialize: plain values, no protobuf types.
/// The lowering fills it in; `ONNXSerializer` turns it into bytes through protobuf-c.
public struct ONNXModelSpec {
    public struct OpsetImport: Equatable {
        public var domain: String
        public var version: Int64
        public init(domain: String = "", version: Int64) { self.domain = domain; self.version = version }
    }

    public var irVersion: Int64
    public var opsetImports: [OpsetImport]
    public var producerName = "onnx-export"
    public var producerVersion = "0.1.0"
    public var docString = ""
    public var metadata: [(key: String, value: String)] = []
    public var graph: ONNXGraphSpec

    public init(irVersion: Int64, opsetImports: [OpsetImport], graph: ONNXGraphSpec) {
        self.irVersion = irVersion; self.opsetImports = opsetImports; self.graph = graph
    }
}

public struct ONNXGraphSpec {
    public var name: String
    public var nodes: [ONNXNodeSpec] = []
    public var inputs: [ONNXValueInfoSpec] = []
    public var outputs: [ONNXValueInfoSpec] = []
    /// Types of intermediate values (optional; runtimes infer them).
    public var valueInfo: [ONNXValueInfoSpec] = []
    public var initializers: [ONNXInitializerSpec] = []
    public init(name: String) { self.name = name }
}

public struct ONNXNodeSpec {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]   // "" marks an omitted optional input
    public var outputs: [String]
    public var attributes: [ONNXAttributeSpec]
    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [ONNXAttributeSpec] = []) {
        self.name = name; self.opType = opType; self.domain = domain
        self.inputs = inputs; self.outputs = outputs; self.attributes = attributes
    }
}

public struct ONNXAttributeSpec {
    public enum Value {
        case int(Int64)
        case float(Float)
        case string(String)
        case ints([Int64])
        case floats([Float])
        case strings([String])
        case tensor(ONNXInitializerSpec)
        /// A subgraph (`If`'s branches). It holds no initializers: the weights it reads are the
        /// outer graph's, named from inside it as outer-scope values.
        case graph(ONNXGraphSpec)
    }
    public var name: String
    public var value: Value
    public init(_ name: String, _ value: Value) { self.name = name; self.value = value }
}

/// A graph input, output or value_info entry. Symbolic dims become `dim_param`, fixed ones
/// `dim_value`, `.unknown` an empty dimension.
public struct ONNXValueInfoSpec {
    public var name: String
    public var type: TensorType
    public init(name: String, type: TensorType) { self.name = name; self.type = type }
}

/// A named constant tensor whose bytes are streamed from `data` when the model is written.
public struct ONNXInitializerSpec {
    public var name: String
    public var data: TensorData
    public init(name: String, data: TensorData) { self.name = name; self.data = data }
}
