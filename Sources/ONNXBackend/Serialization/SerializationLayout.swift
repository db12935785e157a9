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
        /// Where the external payloads go; `SplicedWriter.writeData` writes its slots.
        let placement: DataPlacement
        var entries: [Entry] = []
        var graphBytes = 0
        var modelBytes = 0
        /// Bytes of the data file this layout's placement describes (shared by a bundle's files).
        var dataBytes = 0
        var externalCount = 0
        /// Bytes of the tensors stored inside the model file.
        var inlinePayloadBytes: Int { entries.reduce(0) { $0 + ($1.external == nil ? $1.spec.data.byteCount : 0) } }

        init(model: ONNXModelSpec, modelHeader: [UInt8], graphHeader: [UInt8], messages: ProtoMessages,
             placement: DataPlacement, external: (ONNXInitializerSpec) -> Bool) throws {
            self.modelHeader = modelHeader
            self.graphHeader = graphHeader
            self.placement = placement
            graphBytes = graphHeader.count
            for t in model.graph.initializers {
                let length = t.data.byteCount
                let location = external(t) ? placement.location(of: t.data, name: t.name) : nil
                if location != nil { externalCount += 1 }
                let header = try ProtoWire.pack(try messages.tensorHeader(name: t.name, data: t.data, external: location),
                                                "initializer '\(t.name)'")
                let size = header.count + (location == nil ? ProtoWire.fieldSize(payload: length) : 0)
                entries.append(Entry(spec: t, header: header, external: location, tensorBytes: size))
                graphBytes += ProtoWire.fieldSize(payload: size)
            }
            dataBytes = placement.byteCount
            modelBytes = modelHeader.count + ProtoWire.fieldSize(payload: graphBytes)
        }
    }

    /// Where each tensor would go and how big the files would be, without writing anything
    /// (for tests and callers that want to know in advance).
    static func plan(_ model: ONNXModelSpec, options: SerializeOptions) -> Result<Layout, Error> {
        Result { try prepare(model, options: options) }
    }

    /// Packs the headers and picks inline or external for every initializer per `options`;
    /// external tensors go to `placement` (a fresh one for a single model).
    static func prepare(_ model: ONNXModelSpec, options: SerializeOptions, placement shared: DataPlacement? = nil,
                        forceExternal: Bool = false) throws -> Layout {
        try options.validate()
        for t in model.graph.initializers where t.data.shape.contains(where: { $0 < 0 }) {
            throw ExportError("initializer '\(t.name)': negative dimension in shape \(t.data.shape)")
        }
        let messages = ProtoMessages(arena: ProtoArena())
        let graphHeader = try PackedHeaders.graphWithoutInitializers(model.graph, messages)
        let modelHeader = try PackedHeaders.modelWithoutGraph(model, messages)
        func layout(_ external: (ONNXInitializerSpec) -> Bool) throws -> Layout {
            try Layout(model: model, modelHeader: modelHeader, graphHeader: graphHeader, messages: messages,
                       placement: shared ?? DataPlacement(fileName: options.dataFileName, alignment: options.alignment),
                       external: external)
        }
        let bigEnough = { (t: ONNXInitializerSpec) in t.data.byteCount >= options.inlineThreshold }
        let plan: Layout
        switch forceExternal ? .always : options.externalData {
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
