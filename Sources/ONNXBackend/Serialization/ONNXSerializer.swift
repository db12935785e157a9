import COnnxProto
import CProtobufC
import Foundation
import ONNXExportIR

/// Where weights go: inside `model.onnx`, or in `model.onnx_data` beside it.
public enum ExternalDataMode: String, Sendable, CaseIterable {
    /// External only when the model would reach protobuf's 2 GiB limit.
    case auto
    /// Every tensor of at least `inlineThreshold` bytes goes external.
    case always
    /// Everything inline; a model that would reach 2 GiB is refused.
    case never
}

public struct SerializeOptions: Sendable {
    public var externalData: ExternalDataMode = .auto
    public var modelFileName = "model.onnx"
    public var dataFileName = "model.onnx_data"
    /// Offsets in the data file are multiples of this, so runtimes can map tensors.
    public var alignment = 4096
    /// Tensors smaller than this stay inline even when others go external.
    public var inlineThreshold = 1024
    public init() {}
}

public struct SerializeReport: Sendable {
    public var modelPath: String
    public var dataPath: String?
    public var modelBytes: Int
    public var dataBytes: Int
    public var externalTensorCount: Int
}

/// Writes an `ONNXModelSpec` as an ONNX file without ever holding weight bytes in memory.
///
/// protobuf-c packs every message except tensor payloads. The payloads are spliced in by hand:
/// protobuf lets fields come in any order and a length-delimited field is just tag, length and
/// bytes, so a TensorProto is its packed fields followed by `raw_data` (field 9) whose bytes are
/// streamed from the checkpoint; a GraphProto is its packed fields followed by each initializer
/// (field 5); a ModelProto is its packed fields followed by the graph (field 7). Every length is
/// known up front from the packed sizes and `TensorData.byteCount`, so inline weights also move
/// file to file with `copy_file_range`. protobuf-c never sees a length near 2 GiB, past which
/// readers refuse the file (and at 4 GiB protobuf-c itself would corrupt lengths).
///
/// Files are written under temporary names and renamed when complete; on error they are removed.
public enum ONNXSerializer {
    /// Readers (onnx, onnxruntime) refuse a protobuf of 2 GiB or more.
    static let protobufLimit = 1 << 31
    /// Headroom `auto` keeps below the limit.
    static let autoMargin = 16 << 20

    public static func write(_ model: ONNXModelSpec, toDirectory directory: String, options: SerializeOptions) throws -> SerializeReport {
        let prepared = try prepare(model, options: options)
        let plan = prepared.layout

        let modelPath = (directory as NSString).appendingPathComponent(options.modelFileName)
        let dataPath = (directory as NSString).appendingPathComponent(options.dataFileName)
        let temporaryModel = (directory as NSString).appendingPathComponent(".\(options.modelFileName).tmp-\(getpid())")
        let temporaryData = (directory as NSString).appendingPathComponent(".\(options.dataFileName).tmp-\(getpid())")
        let usesData = plan.externalCount > 0
        do {
            if usesData { try writeData(plan, to: temporaryData) }
            try writeModel(plan, modelHeader: prepared.modelHeader, graphHeader: prepared.graphHeader, to: temporaryModel)
            if usesData { try rename(temporaryData, to: dataPath) } else { try? FileManager.default.removeItem(atPath: dataPath) }
            try rename(temporaryModel, to: modelPath)
        } catch {
            try? FileManager.default.removeItem(atPath: temporaryModel)
            try? FileManager.default.removeItem(atPath: temporaryData)
            throw error
        }
        return SerializeReport(modelPath: modelPath, dataPath: usesData ? dataPath : nil, modelBytes: plan.modelBytes,
                               dataBytes: usesData ? plan.dataBytes : 0, externalTensorCount: plan.externalCount)
    }

    /// The packed headers and the layout chosen for `options`, computed without writing anything.
    struct Prepared {
        var arena: ProtoArena
        var graphHeader: [UInt8]
        var modelHeader: [UInt8]
        var layout: Layout
    }

    /// Where each tensor would go (a result, for tests and callers that want to know in advance).
    static func plan(_ model: ONNXModelSpec, options: SerializeOptions) -> Result<Layout, Error> {
        Result { try prepare(model, options: options).layout }
    }

    static func prepare(_ model: ONNXModelSpec, options: SerializeOptions) throws -> Prepared {
        let arena = ProtoArena()
        let messages = ProtoMessages(arena: arena)
        let graphHeader = try packedGraphWithoutInitializers(model.graph, messages)
        let modelHeader = packedModelWithoutGraph(model, messages)
        let tensors = model.graph.initializers

        func layout(_ external: (ONNXInitializerSpec) -> Bool) -> Layout {
            Layout(tensors: tensors, external: external, messages: messages, options: options,
                   graphHeader: graphHeader.count, modelHeader: modelHeader.count)
        }
        var plan: Layout
        switch options.externalData {
        case .never:
            plan = layout { _ in false }
            guard plan.modelBytes < protobufLimit else {
                throw ExportError("the model needs \(plan.modelBytes) bytes inline, over protobuf's 2 GiB limit; use --external-data auto or always")
            }
        case .always:
            plan = layout { $0.data.byteCount >= options.inlineThreshold }
        case .auto:
            plan = layout { _ in false }
            if plan.modelBytes >= protobufLimit - autoMargin {
                plan = layout { $0.data.byteCount >= options.inlineThreshold }
            }
        }
        guard plan.modelBytes < protobufLimit else {
            throw ExportError("even with external data the model file needs \(plan.modelBytes) bytes, over protobuf's 2 GiB limit")
        }
        return Prepared(arena: arena, graphHeader: graphHeader, modelHeader: modelHeader, layout: plan)
    }

    /// Sizes and offsets of everything, decided before a byte is written.
    struct Layout {
        struct Entry {
            var spec: ONNXInitializerSpec
            var header: [UInt8]
            var external: ProtoMessages.ExternalLocation?
            /// Bytes of the TensorProto: header plus the raw_data field when inline.
            var tensorBytes: Int
        }
        var entries: [Entry] = []
        var graphBytes = 0
        var modelBytes = 0
        var dataBytes = 0
        var externalCount = 0

        init(tensors: [ONNXInitializerSpec], external: (ONNXInitializerSpec) -> Bool, messages: ProtoMessages,
             options: SerializeOptions, graphHeader: Int, modelHeader: Int) {
            var offset = 0
            graphBytes = graphHeader
            for t in tensors {
                var location: ProtoMessages.ExternalLocation? = nil
                if external(t) {
                    offset = (offset + options.alignment - 1) / options.alignment * options.alignment
                    location = .init(file: options.dataFileName, offset: offset, length: t.data.byteCount)
                    offset += t.data.byteCount
                    externalCount += 1
                }
                let header = ProtoWire.pack(messages.tensorHeader(name: t.name, data: t.data, external: location))
                let size = header.count + (location == nil ? ProtoWire.fieldSize(payload: t.data.byteCount) : 0)
                entries.append(Entry(spec: t, header: header, external: location, tensorBytes: size))
                graphBytes += ProtoWire.fieldSize(payload: size)
            }
            dataBytes = offset
            modelBytes = modelHeader + ProtoWire.fieldSize(payload: graphBytes)
        }
    }

    static func packedGraphWithoutInitializers(_ graph: ONNXGraphSpec, _ m: ProtoMessages) throws -> [UInt8] {
        let nodes = try graph.nodes.map { Optional(try m.node($0)) }
        let inputs = graph.inputs.map { Optional(m.valueInfo($0)) }
        let outputs = graph.outputs.map { Optional(m.valueInfo($0)) }
        let valueInfo = graph.valueInfo.map { Optional(m.valueInfo($0)) }
        let g = m.arena.message(Onnx__GraphProto.self) { p in
            onnx__graph_proto__init(p)
            p.pointee.name = m.arena.string(graph.name)
            p.pointee.n_node = nodes.count
            p.pointee.node = m.arena.array(nodes)
            p.pointee.n_input = inputs.count
            p.pointee.input = m.arena.array(inputs)
            p.pointee.n_output = outputs.count
            p.pointee.output = m.arena.array(outputs)
            p.pointee.n_value_info = valueInfo.count
            p.pointee.value_info = m.arena.array(valueInfo)
        }
        return ProtoWire.pack(g)
    }

    static func packedModelWithoutGraph(_ model: ONNXModelSpec, _ m: ProtoMessages) -> [UInt8] {
        let opsets = model.opsetImports.map { Optional(m.opset($0)) }
        let metadata = model.metadata.map { Optional(m.entry($0.key, $0.value)) }
        let p = m.arena.message(Onnx__ModelProto.self) { p in
            onnx__model_proto__init(p)
            p.pointee.has_ir_version = 1
            p.pointee.ir_version = model.irVersion
            p.pointee.n_opset_import = opsets.count
            p.pointee.opset_import = m.arena.array(opsets)
            p.pointee.producer_name = m.arena.string(model.producerName)
            p.pointee.producer_version = m.arena.string(model.producerVersion)
            if !model.docString.isEmpty { p.pointee.doc_string = m.arena.string(model.docString) }
            p.pointee.n_metadata_props = metadata.count
            p.pointee.metadata_props = m.arena.array(metadata)
        }
        return ProtoWire.pack(p)
    }

    static func writeData(_ plan: Layout, to path: String) throws {
        let file = try OutputFile(path: path)
        for entry in plan.entries {
            guard let location = entry.external else { continue }
            try file.writeZeros(location.offset - file.position)
            try stream(entry.spec, into: file)
        }
        try file.flush()
    }

    static func writeModel(_ plan: Layout, modelHeader: [UInt8], graphHeader: [UInt8], to path: String) throws {
        let file = try OutputFile(path: path)
        try file.write(modelHeader)
        try file.write([ProtoWire.lengthDelimitedTag(7)] + ProtoWire.varint(plan.graphBytes))
        try file.write(graphHeader)
        for entry in plan.entries {
            try file.write([ProtoWire.lengthDelimitedTag(5)] + ProtoWire.varint(entry.tensorBytes))
            try file.write(entry.header)
            if entry.external == nil {
                try file.write([ProtoWire.lengthDelimitedTag(9)] + ProtoWire.varint(entry.spec.data.byteCount))
                try stream(entry.spec, into: file)
            }
        }
        try file.flush()
        guard file.position == plan.modelBytes else {
            throw ExportError("\(path): wrote \(file.position) bytes, the layout planned \(plan.modelBytes)")
        }
    }

    /// Streams one tensor and checks that its source produced exactly the planned byte count.
    static func stream(_ tensor: ONNXInitializerSpec, into file: OutputFile) throws {
        let start = file.position
        try tensor.data.stream(into: file)
        let written = file.position - start
        guard written == tensor.data.byteCount else {
            throw ExportError("tensor '\(tensor.name)': its source gave \(written) bytes, expected \(tensor.data.byteCount)")
        }
    }

    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw ExportError("\(to): cannot rename the finished file into place (\(String(cString: strerror(errno))))")
        }
    }
}
