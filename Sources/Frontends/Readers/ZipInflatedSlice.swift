import ONNXExportIR

/// The bytes `[start, start + length)` of a deflated zip entry, inflated while they stream.
///
/// Deflate cannot be entered in the middle, so the entry is inflated from its start; the whole
/// stream is inflated even when the slice ends early, because only then can its length and
/// CRC-32 be checked. Tensors that share one deflated storage each inflate it again: that costs
/// time, never memory, and deflated checkpoints are rare (torch.save stores records uncompressed).
struct ZipInflatedSlice: TensorByteProducer {
    let archivePath: String
    let entry: ZipEntry
    let compressed: FileRegion
    let start: Int
    let length: Int

    var identity: String {
        "\(archivePath)#\(entry.name)@\(compressed.offset) inflated[\(start)..<\(start + length)]"
    }

    var byteCount: Int { length }

    func stream(into sink: TensorByteSink) throws {
        let end = start + length
        var position = 0
        try ZipInflation(archivePath: archivePath, entry: entry, compressed: compressed).run { chunk in
            defer { position += chunk.count }
            let low = max(start, position), high = min(end, position + chunk.count)
            if low < high {
                try sink.write(UnsafeRawBufferPointer(rebasing: chunk[(low - position) ..< (high - position)]))
            }
        }
    }
}
