import ONNXExportIR

/// Writes an `ONNXModelSpec` as an ONNX file without ever holding weight bytes in memory.
///
/// protobuf-c packs every message except tensor payloads. The payloads are spliced in by hand:
/// protobuf lets fields come in any order, and a length-delimited field is just a key, a varint
/// length and the bytes. So a TensorProto is its packed fields followed by `raw_data` (field 9)
/// whose bytes stream from the checkpoint; a GraphProto is its packed fields followed by each
/// initializer (field 5); a ModelProto is its packed fields followed by the graph (field 7).
/// Every length is known up front from the packed sizes and `TensorData.byteCount`, so even
/// inline weights move file to file with `copy_file_range`, and the result is valid protobuf that
/// onnx and onnxruntime read like any other.
///
/// protobuf-c never packs a length near 2 GiB: readers refuse a protobuf that large, and at 4 GiB
/// protobuf-c 1.4.1 silently corrupts lengths. Weights move to external data instead, at
/// offsets aligned to `SerializeOptions.alignment` so runtimes can map them.
///
/// Files are written under temporary names in the destination folder and renamed when complete
/// (the data file before the model, so a model never points at missing data) once the sources'
/// integrity checks have passed (`SourceVerifier`, beside the writing); on any error the
/// temporaries are removed. The same spec always gives the same bytes.
///
/// ```swift
/// var options = SerializeOptions()
/// options.externalData = .always
/// let report = try ONNXSerializer.write(spec, toDirectory: "out", options: options)
/// // out/model.onnx, out/model.onnx_data
/// ```
public enum ONNXSerializer {
    public static func write(_ model: ONNXModelSpec, toDirectory directory: String, options: SerializeOptions) throws -> SerializeReport {
        let plan = try prepare(model, options: options)
        let token = StagedFile.makeToken()
        let modelFile = StagedFile(directory: directory, name: options.modelFileName, token: token)
        let dataFile = StagedFile(directory: directory, name: options.dataFileName, token: token)
        let usesData = plan.externalCount > 0
        let meter = options.progress
        meter?.begin(total: plan.inlinePayloadBytes + (usesData ? plan.placement.payloadBytes : 0),
                     file: (usesData ? dataFile : modelFile).fileName)
        let verifier = SourceVerifier(plan.placement.slots.map(\.data) + plan.entries.map(\.spec.data))
        do {
            if usesData { try SplicedWriter.writeData(plan.placement, to: dataFile, meter: meter) }
            try SplicedWriter.writeModel(plan, to: modelFile, meter: meter)
            try verifier.finish()
            if usesData { try dataFile.commit() } else { try StagedFile.removeStale(dataFile.finalPath) }
            try modelFile.commit()
        } catch {
            modelFile.discard()
            dataFile.discard()
            throw modelFile.naming(dataFile.naming(error))
        }
        return SerializeReport(modelPath: modelFile.finalPath, dataPath: usesData ? dataFile.finalPath : nil,
                               modelBytes: plan.modelBytes, dataBytes: usesData ? plan.dataBytes : 0,
                               externalTensorCount: plan.externalCount)
    }
}
