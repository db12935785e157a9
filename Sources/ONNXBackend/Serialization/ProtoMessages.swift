import COnnxProto
import CProtobufC
import ONNXExportIR

/// Builds protobuf-c message structs from the plain spec values. Everything is allocated in the
/// arena; tensor payloads are not part of these messages (see `ONNXSerializer`), except the
/// small tensors of node attributes.
struct ProtoMessages {
    let arena: ProtoArena

    func node(_ spec: ONNXNodeSpec) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
        let attributes = try spec.attributes.map { Optional(try attribute($0)) }
        return arena.message(Onnx__NodeProto.self) { p in
            onnx__node_proto__init(p)
            p.pointee.n_input = spec.inputs.count
            p.pointee.input = arena.strings(spec.inputs)
            p.pointee.n_output = spec.outputs.count
            p.pointee.output = arena.strings(spec.outputs)
            p.pointee.name = arena.string(spec.name)
            p.pointee.op_type = arena.string(spec.opType)
            if !spec.domain.isEmpty { p.pointee.domain = arena.string(spec.domain) }
            p.pointee.n_attribute = attributes.count
            p.pointee.attribute = arena.array(attributes)
        }
    }

    func attribute(_ spec: ONNXAttributeSpec) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let tensorValue: UnsafeMutablePointer<Onnx__TensorProto>?
        if case .tensor(let t) = spec.value {
            tensorValue = tensorHeader(name: t.name, data: t.data, external: nil)
            tensorValue?.pointee.has_raw_data = 1
            tensorValue?.pointee.raw_data = arena.binary(try t.data.materialize())
        } else {
            tensorValue = nil
        }
        return arena.message(Onnx__AttributeProto.self) { p in
            onnx__attribute_proto__init(p)
            p.pointee.name = arena.string(spec.name)
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
            }
        }
    }

    func valueInfo(_ spec: ONNXValueInfoSpec) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let dims = spec.type.shape.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension>? in
            arena.message(Onnx__TensorShapeProto__Dimension.self) { p in
                onnx__tensor_shape_proto__dimension__init(p)
                if let v = d.fixedValue {
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    p.pointee.dim_value = Int64(v)
                } else if d.isKnown {
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    p.pointee.dim_param = arena.string(d.description)
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
        return arena.message(Onnx__ValueInfoProto.self) { p in
            onnx__value_info_proto__init(p)
            p.pointee.name = arena.string(spec.name)
            p.pointee.type = type
        }
    }

    /// Where an external tensor's bytes live in the data file.
    struct ExternalLocation {
        var file: String
        var offset: Int
        var length: Int
    }

    /// A TensorProto with everything but its payload: name, type, dims, and for external data
    /// the location entries.
    func tensorHeader(name: String, data: TensorData, external: ExternalLocation?) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let entries: [UnsafeMutablePointer<Onnx__StringStringEntryProto>?] = external.map { e in
            [("location", e.file), ("offset", String(e.offset)), ("length", String(e.length))].map { entry($0.0, $0.1) }
        } ?? []
        return arena.message(Onnx__TensorProto.self) { p in
            onnx__tensor_proto__init(p)
            p.pointee.name = arena.string(name)
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

    func entry(_ key: String, _ value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        arena.message(Onnx__StringStringEntryProto.self) { p in
            onnx__string_string_entry_proto__init(p)
            p.pointee.key = arena.string(key)
            p.pointee.value = arena.string(value)
        }
    }

    func opset(_ spec: ONNXModelSpec.OpsetImport) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
        arena.message(Onnx__OperatorSetIdProto.self) { p in
            onnx__operator_set_id_proto__init(p)
            p.pointee.domain = arena.string(spec.domain)
            p.pointee.has_version = 1
            p.pointee.version = spec.version
        }
    }
}
