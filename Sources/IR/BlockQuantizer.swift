/// Streams one of the three MatMulNBits tensors of a float `[N, K]` source (`BlockQuantization`):
/// the source streams as it would anyway (file ranges mapped a window at a time, transposes in
/// bands; half precision as stored, widened by the kernel) into a `QuantizingSink` that quantizes whole rows as they
/// arrive, on every core, so no weight is ever held whole. A stored `[K, N]` matrix read
/// transposed (GPT-2's `Conv1D`) is quantized from its mapping by the column kernel instead, with
/// no transposed copy.
///
/// The packed values are the big part and are computed with the scales and zero points as a
/// by-product; those are kept in `BlockParameterCache` for the two small tensors that the
/// lowering writes right after, so the source is read once, not three times. Whichever order
/// the parts are asked for, each is computed the same way and comes out the same.
struct BlockQuantizer {
    let source: TensorData
    let quantization: BlockQuantization
    let scaleType: DataType

    func stream(_ part: BlockQuantization.Part, into sink: TensorByteSink) throws {
        let cache = BlockParameterCache.shared
        let key = BlockParameterCache.Key(source: source, quantization: quantization, scaleType: scaleType)
        switch part {
        case .packed:
            cache.beginPacking(key)
            var parameters: BlockParameters?
            defer { cache.endPacking(key, leaving: parameters) }
            parameters = try quantize(packedInto: sink)
        case .scales, .zeroPoints:
            let bytes: [UInt8]
            if let cached = cache.take(part, of: key) {
                bytes = cached
            } else {
                let parameters = try quantize(packedInto: nil)
                cache.keep(parameters, for: key, taking: part)
                bytes = parameters[part]
            }
            try bytes.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// Streams the whole source through the kernel; the packed values go to `sink` (none when
    /// nil: only scales and zero points are wanted).
    private func quantize(packedInto sink: TensorByteSink?) throws -> BlockParameters {
        // Half precision streams as stored (the kernel widens it as it reads); float64 is narrowed first.
        let streamed = BlockQuantization.isKernelType(source.dtype) ? source : try source.converted(to: .float32)
        let quantizer = try QuantizingSink(rows: source.shape[0], columns: source.shape[1], sourceType: streamed.dtype,
                                           quantization: quantization, scaleType: scaleType, packedSink: sink)
        if let (stored, region) = storedTransposed() {
            try ReadOnlyFile(path: region.path).withMappedBytes(at: region.offset, count: stored.byteCount) { mapped in
                guard let base = mapped.baseAddress else { return }
                try quantizer.quantizeColumns(of: base)
            }
        } else {
            try streamed.stream(into: quantizer)
        }
        try quantizer.finish()
        return quantizer.parameters
    }

    /// Where the source is the transpose of a stored float32 matrix of at most
    /// `columnPathLimit` bytes (GPT-2's `Conv1D` weights): that matrix and its file range, read by
    /// the column kernel without transposing it first (a transpose cost a quarter of a GPT-2
    /// export's CPU time). Larger ones take the transpose's bands, which bound the memory mapped.
    private func storedTransposed() -> (TensorData, FileRegion)? {
        guard case .transformed(let stored, .transpose2D) = source.storage, stored.dtype == .float32,
              case .file(let region) = stored.storage, stored.byteCount <= Self.columnPathLimit else { return nil }
        return (stored, region)
    }

    static let columnPathLimit = 64 << 20
}
