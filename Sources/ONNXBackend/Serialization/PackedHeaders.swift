import COnnxProto
import CProtobufC
import ONNXExportIR

/// The parts of ModelProto and GraphProto that protobuf-c packs whole: everything except the
/// graph inside the model and the initializers inside the graph, which the serializer splices
/// after these bytes (see `ONNXSerializer`).
enum PackedHeaders {
    /// GraphProto fields: name, nodes, inputs, outputs, value_info; no initializers.
    static func graphWithoutInitializers(_ graph: ONNXGraphSpec, _ m: ProtoMessages) throws -> [UInt8] {
        try ProtoWire.pack(try m.graph(graph), "graph '\(graph.name)'")
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
