import ONNXExportIR

/// Writes the files a `Layout` describes. Small pieces go through `OutputFile`'s 1 MiB buffer;
/// tensor payloads stream from their source (`copy_file_range` for untransformed checkpoint
/// ranges), so no weight is ever held whole in memory. Every count is checked against the
/// layout, since the lengths announced up front must match the bytes that follow.
enum SplicedWriter {
    /// The model file: model header, graph field, graph header, then each initializer as
    /// field 5 holding its header and, when inline, its raw_data field (9) with the payload.
    static func writeModel(_ plan: ONNXSerializer.Layout, to staged: StagedFile, meter: ProgressMeter?) throws {
        let path = staged.temporaryPath
        let file = try OutputFile(path: path)
        meter?.writing(staged.fileName)
        let inline = plan.entries.filter { $0.external == nil }
        let prefetcher = TensorPrefetcher(inline.map(\.spec.data))
        var next = 0
        try file.write(plan.modelHeader)
        try file.write(ProtoWire.fieldPrefix(7, length: plan.graphBytes))
        try file.write(plan.graphHeader)
        for entry in plan.entries {
            try file.write(ProtoWire.fieldPrefix(5, length: entry.tensorBytes))
            try file.write(entry.header)
            if entry.external == nil {
                try file.write(ProtoWire.fieldPrefix(9, length: entry.spec.data.byteCount))
                try stream(entry.spec, next, prefetcher, into: file, meter: meter)
                next += 1
            }
        }
        try file.flush()
        guard file.position == plan.modelBytes else {
            throw ExportError("\(path): wrote \(file.position) bytes, the layout planned \(plan.modelBytes)")
        }
    }

    /// The external data file: each placed payload once, at its aligned offset, zeros between.
    static func writeData(_ placement: DataPlacement, to staged: StagedFile, meter: ProgressMeter?) throws {
        let path = staged.temporaryPath
        let file = try OutputFile(path: path)
        meter?.writing(staged.fileName)
        let prefetcher = TensorPrefetcher(placement.slots.map(\.data))
        for (i, slot) in placement.slots.enumerated() {
            try file.writeZeros(slot.offset - file.position)
            try stream(ONNXInitializerSpec(name: slot.name, data: slot.data), i, prefetcher, into: file, meter: meter)
        }
        try file.flush()
        guard file.position == placement.byteCount else {
            throw ExportError("\(path): wrote \(file.position) bytes, the layout planned \(placement.byteCount)")
        }
    }

    /// Streams one tensor and checks that its source produced exactly the announced byte count
    /// (a short source would shift every later field and make the file unreadable).
    /// Transformed tensors are computed one ahead on the second core by `prefetcher`. The
    /// payload's bytes count into `meter`.
    static func stream(_ tensor: ONNXInitializerSpec, _ index: Int, _ prefetcher: TensorPrefetcher, into file: OutputFile,
                       meter: ProgressMeter?) throws {
        let start = file.position
        try file.counting(into: meter) { try prefetcher.stream(index, into: file) }
        let written = file.position - start
        guard written == tensor.data.byteCount else {
            throw ExportError("initializer '\(tensor.name)': its source gave \(written) bytes, expected \(tensor.data.byteCount)")
        }
    }
}
