import COnnxProto
import CProtobufC
import ONNXExportIR

/// Builds protobuf-c message structs from the plain spec values. Everything is allocated in the
/// arena; tensor payloads are not part of these messages (see `ONNXSerializer`), except the
/// small tensors of node attributes.
final class ProtoMessages {
    let arena: ProtoArena
    /// Attribute tensors are packed from memory, so their total is capped well below anything
    /// that could bring a packed message near protobuf's limit. Big constants belong in
    /// initializers, whose bytes stream.
    static let attributeTensorLimit = 256 << 20
    private var attributeTensorBytes = 0

    init(arena: ProtoArena) { self.arena = arena }

    func node(_ spec: ONNXNodeSpec) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
        let attributes = try spec.attributes.map { Optional(try attribute($0, of: spec)) }
        return try arena.message(Onnx__NodeProto.self) { p in
            onnx__node_proto__init(p)
            p.pointee.n_input = spec.inputs.count
            p.pointee.input = try arena.strings(spec.inputs)
            p.pointee.n_output = spec.outputs.count
            p.pointee.output = try arena.strings(spec.outputs)
            p.pointee.name = try arena.optionalString(spec.name)
            p.pointee.op_type = try arena.string(spec.opType)
            p.pointee.domain = try arena.optionalString(spec.domain)
            p.pointee.n_attribute = attributes.count
            p.pointee.attribute = arena.array(attributes)
        }
    }

    /// One attribute, with `type` always set (IR version 2 and later require it).
    func attribute(_ spec: ONNXAttributeSpec, of node: ONNXNodeSpec) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
        var tensorValue: UnsafeMutablePointer<Onnx__TensorProto>? = nil
        if case .tensor(let t) = spec.value {
            attributeTensorBytes += t.data.byteCount
            guard attributeTensorBytes <= Self.attributeTensorLimit else {
                throw ExportError("node '\(node.name)': attribute '\(spec.name)' holds a \(t.data.byteCount)-byte tensor; constants this large (over \(Self.attributeTensorLimit >> 20) MiB in all) must be initializers")
            }
            let header = try tensorHeader(name: t.name, data: t.data, external: nil)
            header.pointee.has_raw_data = 1
            header.pointee.raw_data = arena.binary(try t.data.materialize())
            guard header.pointee.raw_data.len == t.data.byteCount else {
                throw ExportError("node '\(node.name)': attribute '\(spec.name)' tensor gave \(header.pointee.raw_data.len) bytes, expected \(t.data.byteCount)")
            }
            tensorValue = header
        }
        var graphValue: UnsafeMutablePointer<Onnx__GraphProto>? = nil
        if case .graph(let g) = spec.value {
            guard g.initializers.isEmpty else {
                throw ExportError("node '\(node.name)': subgraph '\(g.name)' holds initializers; a subgraph reads the outer graph's")
            }
            graphValue = try graph(g)
        }
        return try arena.message(Onnx__AttributeProto.self) { p in
            onnx__attribute_proto__init(p)
            p.pointee.name = try arena.string(spec.name)
            p.pointee.has_type = 1
            switch spec.value {
            case .int(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                p.pointee.has_i = 1
                p.pointee.i = v
            case .float(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
                p.pointee.has_f = 1
                p.pointee.f = v
            case .string(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
                p.pointee.has_s = 1
                p.pointee.s = arena.binary(Array(v.utf8))
            case .ints(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
                p.pointee.n_ints = v.count
                p.pointee.ints = arena.array(v)
            case .floats(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
                p.pointee.n_floats = v.count
                p.pointee.floats = arena.array(v)
            case .strings(let v):
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
                p.pointee.n_strings = v.count
                p.pointee.strings = arena.array(v.map { arena.binary(Array($0.utf8)) })
            case .tensor:
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
                p.pointee.t = tensorValue
            case .graph:
                p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
                p.pointee.g = graphValue
            }
        }
    }

    /// GraphProto fields: name, nodes, inputs, outputs, value_info; never initializers (the
    /// serializer splices a top-level graph's after these fields, and subgraphs have none).
    func graph(_ graph: ONNXGraphSpec) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
        let nodes = try graph.nodes.map { Optional(try node($0)) }
        let inputs = try graph.inputs.map { Optional(try valueInfo($0)) }
        let outputs = try graph.outputs.map { Optional(try valueInfo($0)) }
        let valueInfos = try graph.valueInfo.map { Optional(try valueInfo($0)) }
        return try arena.message(Onnx__GraphProto.self) { p in
            onnx__graph_proto__init(p)
            p.pointee.name = try arena.string(graph.name)
            p.pointee.n_node = nodes.count
            p.pointee.node = arena.array(nodes)
            p.pointee.n_input = inputs.count
            p.pointee.input = arena.array(inputs)
            p.pointee.n_output = outputs.count
            p.pointee.output = arena.array(outputs)
            p.pointee.n_value_info = valueInfos.count
            p.pointee.value_info = arena.array(valueInfos)
        }
    }

    /// A tensor-typed value. Fixed dims become `dim_value`, symbolic ones `dim_param` (their
    /// spelling, e.g. `past_sequence_length + sequence_length`), `.unknown` a dimension with
    /// neither, which ONNX reads as an anonymous size.
    func valueInfo(_ spec: ONNXValueInfoSpec) throws -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let dims = try spec.type.shape.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension>? in
            try arena.message(Onnx__TensorShapeProto__Dimension.self) { p in
                onnx__tensor_shape_proto__dimension__init(p)
                if let v = d.fixedValue {
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    p.pointee.dim_value = Int64(v)
                } else if d.isKnown {
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    p.pointee.dim_param = try arena.string(d.description)
                }
            }
        }
        let shape = arena.message(Onnx__TensorShapeProto.self) { p in
            onnx__tensor_shape_proto__init(p)
            p.pointee.n_dim = dims.count
            p.pointee.dim = arena.array(dims)
        }
        let tensorType = arena.message(Onnx__TypeProto__Tensor.self) { p in
            onnx__type_proto__tensor__init(p)
            p.pointee.has_elem_type = 1
            p.pointee.elem_type = spec.type.dtype.rawValue
            p.pointee.shape = shape
        }
        let type = arena.message(Onnx__TypeProto.self) { p in
            onnx__type_proto__init(p)
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            p.pointee.tensor_type = tensorType
        }
        return try arena.message(Onnx__ValueInfoProto.self) { p in
            onnx__value_info_proto__init(p)
            p.pointee.name = try arena.string(spec.name)
            p.pointee.type = type
        }
    }

    /// Where an external tensor's bytes live in the data file.
    struct ExternalLocation: Equatable {
        var file: String
        var offset: Int
        var length: Int
    }

    /// A TensorProto with everything but its payload: name, type, dims, and for external data
    /// the location entries (`location`, `offset`, `length`, values as decimal strings).
    func tensorHeader(name: String, data: TensorData, external: ExternalLocation?) throws -> UnsafeMutablePointer<Onnx__TensorProto> {
        let entries: [UnsafeMutablePointer<Onnx__StringStringEntryProto>?] = try external.map { e in
            try [("location", e.file), ("offset", String(e.offset)), ("length", String(e.length))].map { try entry($0.0, $0.1) }
        } ?? []
        return try arena.message(Onnx__TensorProto.self) { p in
            onnx__tensor_proto__init(p)
            p.pointee.name = try arena.string(name)
            p.pointee.has_data_type = 1
            p.pointee.data_type = data.dtype.rawValue
            p.pointee.n_dims = data.shape.count
            p.pointee.dims = arena.array(data.shape.map(Int64.init))
            if external != nil {
                p.pointee.has_data_location = 1
                p.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                p.pointee.n_external_data = entries.count
                p.pointee.external_data = arena.array(entries)
            }
        }
    }

    func entry(_ key: String, _ value: String) throws -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        try arena.message(Onnx__StringStringEntryProto.self) { p in
            onnx__string_string_entry_proto__init(p)
            p.pointee.key = try arena.string(key)
            p.pointee.value = try arena.string(value)
        }
    }

    /// An opset import; the domain is written even when empty (`ai.onnx`), as onnx's helpers do.
    func opset(_ spec: ONNXModelSpec.OpsetImport) throws -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
        try arena.message(Onnx__OperatorSetIdProto.self) { p in
            onnx__operator_set_id_proto__init(p)
            p.pointee.domain = try arena.string(spec.domain)
            p.pointee.has_version = 1
            p.pointee.version = spec.version
        }
    }
}
