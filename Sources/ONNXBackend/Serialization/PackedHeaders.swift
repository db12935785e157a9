import COnnxProto
import CProtobufC
import ONNXExportIR

/// The parts of ModelProto and GraphProto that protobuf-c packs whole: everything except the
/// graph inside the model and the initializers inside the graph, which the serializer splices
/// after these bytes (see `ONNXSerializer`).
enum PackedHeaders {
    /// GraphProto fields: name, nodes, inputs, outputs, value_info; no initializers.
    static func graphWithoutInitializers(_ graph: ONNXGraphSpec, _ m: ProtoMessages) throws -> [UInt8] {
        let nodes = try graph.nodes.map { Optional(try m.node($0)) }
        let inputs = try graph.inputs.map { Optional(try m.valueInfo($0)) }
        let outputs = try graph.outputs.map { Optional(try m.valueInfo($0)) }
        let valueInfo = try graph.valueInfo.map { Optional(try m.valueInfo($0)) }
        let g = try m.arena.message(Onnx__GraphProto.self) { p in
            onnx__graph_proto__init(p)
            p.pointee.name = try m.arena.string(graph.name)
            p.pointee.n_node = nodes.count
            p.pointee.node = m.arena.array(nodes)
            p.pointee.n_input = inputs.count
            p.pointee.input = m.arena.array(inputs)
            p.pointee.n_output = outputs.count
            p.pointee.output = m.arena.array(outputs)
            p.pointee.n_value_info = valueInfo.count
            p.pointee.value_info = m.arena.array(valueInfo)
        }
        return try ProtoWire.pack(g, "graph '\(graph.name)'")
    }

    /// ModelProto fields: ir_version, opset imports, producer, doc string, metadata; no graph.
    static func modelWithoutGraph(_ model: ONNXModelSpec, _ m: ProtoMessages) throws -> [UInt8] {
        let opsets = try model.opsetImports.map { Optional(try m.opset($0)) }
        let metadata = try model.metadata.map { Optional(try m.entry($0.key, $0.value)) }
        let p = try m.arena.message(Onnx__ModelProto.self) { p in
            onnx__model_proto__init(p)
            p.pointee.has_ir_version = 1
            p.pointee.ir_version = model.irVersion
            p.pointee.n_opset_import = opsets.count
            p.pointee.opset_import = m.arena.array(opsets)
            p.pointee.producer_name = try m.arena.optionalString(model.producerName)
            p.pointee.producer_version = try m.arena.optionalString(model.producerVersion)
            p.pointee.doc_string = try m.arena.optionalString(model.docString)
            p.pointee.n_metadata_props = metadata.count
            p.pointee.metadata_props = m.arena.array(metadata)
        }
        return try ProtoWire.pack(p, "model")
    }
}
