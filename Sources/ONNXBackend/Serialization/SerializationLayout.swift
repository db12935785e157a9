import ONNXExportIR

extension ONNXSerializer {
    /// Headroom `.auto` keeps below the 2 GiB limit before it moves weights out.
    static let autoMargin = 16 << 20

    /// Every byte count and offset of the output, decided before a byte is written: the packed
    /// headers, each initializer's TensorProto header, where its payload goes, and the lengths
    /// the spliced fields announce.
    struct Layout {
        struct Entry {
            var spec: ONNXInitializerSpec
            /// The TensorProto packed without raw_data.
            var header: [UInt8]
            var external: ProtoMessages.ExternalLocation?
            /// Bytes of the whole TensorProto: header plus the raw_data field when inline.
            var tensorBytes: Int
        }
        var modelHeader: [UInt8]
        var graphHeader: [UInt8]
        var entries: [Entry] = []
        var graphBytes = 0
        var modelBytes = 0
        var dataBytes = 0
        var externalCount = 0

        init(model: ONNXModelSpec, modelHeader: [UInt8], graphHeader: [UInt8], messages: ProtoMessages,
             options: SerializeOptions, external: (ONNXInitializerSpec) -> Bool) throws {
            self.modelHeader = modelHeader
            self.graphHeader = graphHeader
            var offset = 0
            graphBytes = graphHeader.count
            for t in model.graph.initializers {
                let length = t.data.byteCount
                var location: ProtoMessages.ExternalLocation? = nil
                if external(t) {
                    offset = (offset + options.alignment - 1) / options.alignment * options.alignment
                    location = .init(file: options.dataFileName, offset: offset, length: length)
                    offset += length
                    externalCount += 1
                }
                let header = try ProtoWire.pack(try messages.tensorHeader(name: t.name, data: t.data, external: location),
                                                "initializer '\(t.name)'")
                let size = header.count + (location == nil ? ProtoWire.fieldSize(payload: length) : 0)
                entries.append(Entry(spec: t, header: header, external: location, tensorBytes: size))
                graphBytes += ProtoWire.fieldSize(payload: size)
            }
            dataBytes = offset
            modelBytes = modelHeader.count + ProtoWire.fieldSize(payload: graphBytes)
        }
    }

    /// Where each tensor would go and how big the files would be, without writing anything
    /// (for tests and callers that want to know in advance).
    static func plan(_ model: ONNXModelSpec, options: SerializeOptions) -> Result<Layout, Error> {
        Result { try prepare(model, options: options) }
    }

    /// Packs the headers and picks inline or external for every initializer per `options`.
    static func prepare(_ model: ONNXModelSpec, options: SerializeOptions) throws -> Layout {
        try options.validate()
        for t in model.graph.initializers where t.data.shape.contains(where: { $0 < 0 }) {
            throw ExportError("initializer '\(t.name)': negative dimension in shape \(t.data.shape)")
        }
        let messages = ProtoMessages(arena: ProtoArena())
        let graphHeader = try PackedHeaders.graphWithoutInitializers(model.graph, messages)
        let modelHeader = try PackedHeaders.modelWithoutGraph(model, messages)
        func layout(_ external: (ONNXInitializerSpec) -> Bool) throws -> Layout {
            try Layout(model: model, modelHeader: modelHeader, graphHeader: graphHeader, messages: messages,
                       options: options, external: external)
        }
        let bigEnough = { (t: ONNXInitializerSpec) in t.data.byteCount >= options.inlineThreshold }
        let plan: Layout
        switch options.externalData {
        case .never:
            plan = try layout { _ in false }
            guard plan.modelBytes < ProtoWire.protobufLimit else {
                throw ExportError("the model needs \(plan.modelBytes) bytes with every weight inline, over protobuf's 2 GiB limit; write the weights as external data (--external-data auto or always)")
            }
        case .always:
            plan = try layout(bigEnough)
        case .auto:
            let inline = try layout { _ in false }
            plan = inline.modelBytes < ProtoWire.protobufLimit - autoMargin ? inline : try layout(bigEnough)
        }
        guard plan.modelBytes < ProtoWire.protobufLimit else {
            throw ExportError("even with external data the model file needs \(plan.modelBytes) bytes, over protobuf's 2 GiB limit (\(plan.entries.count - plan.externalCount) tensors under the \(options.inlineThreshold)-byte inline threshold, \(plan.graphHeader.count) bytes of nodes and types)")
        }
        return plan
    }
}
