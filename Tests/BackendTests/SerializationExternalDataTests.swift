import COnnxProto
import CProtobufC
import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// External data: which tensors go out, the entries that point at them, aligned offsets, and a
/// data file holding exactly the payloads with zeros between.
@Suite struct SerializationExternalDataTests {
    let scratch: SerializationScratch
    init() throws { scratch = try SerializationScratch() }

    /// Three weights of 2000, 1024 and 700 floats, a 1023-byte one and a tiny inline one.
    func model() throws -> ONNXModelSpec {
        var model = try matMulAddModel(scratch)
        model.graph.initializers += [
            ONNXInitializerSpec(name: "a", data: try scratch.floats((0..<2000).map(Float.init))),
            ONNXInitializerSpec(name: "at-threshold", data: try scratch.floats((0..<256).map { -Float($0) })),
            ONNXInitializerSpec(name: "under-threshold", data: TensorData(dtype: .uint8, shape: [1023], storage: .inline(Array(repeating: 5, count: 1023)))),
            ONNXInitializerSpec(name: "c", data: try scratch.floats((0..<700).map { Float($0) * 2 }).transposedColumn()),
        ]
        return model
    }

    func check(alignment: Int) throws {
        var options = SerializeOptions()
        options.externalData = .always
        options.alignment = alignment
        let spec = try model()
        let report = try ONNXSerializer.write(spec, toDirectory: scratch.path, options: options)
        let dataPath = try #require(report.dataPath)
        #expect(dataPath == scratch.path + "/model.onnx_data")
        #expect(report.externalTensorCount == 3)
        let data = try fileBytes(dataPath)
        #expect(report.dataBytes == data.count)
        let unpacked = try UnpackedModel(report.modelPath)
        #expect(report.modelBytes == unpacked.fileSize && unpacked.repackedSize == unpacked.fileSize)
        let tensors = PB.items(try unpacked.graph.initializer, try unpacked.graph.n_initializer)
        #expect(tensors.map { PB.text($0.name) } == ["W", "B", "a", "at-threshold", "under-threshold", "c"])

        var covered = [Bool](repeating: false, count: data.count)
        var previousEnd = 0
        for (t, s) in zip(tensors, spec.graph.initializers) where s.data.byteCount >= options.inlineThreshold {
            #expect(t.has_data_location == 1 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
            #expect(t.has_raw_data == 0)
            #expect(PB.items(t.external_data, t.n_external_data).map { PB.text($0.key) } == ["location", "offset", "length"])
            let entries = PB.external(t)
            #expect(entries["location"] == "model.onnx_data")
            let offset = try #require(Int(entries["offset"] ?? "")), length = try #require(Int(entries["length"] ?? ""))
            #expect(offset % alignment == 0)
            #expect(offset >= previousEnd && offset - previousEnd < alignment)
            #expect(length == s.data.byteCount)
            #expect(Array(data[offset..<(offset + length)]) == (try s.data.materialize()))
            for i in offset..<(offset + length) { covered[i] = true }
            previousEnd = offset + length
        }
        #expect(previousEnd == data.count)
        #expect(zip(data, covered).allSatisfy { $1 || $0 == 0 })  // padding is zeros
        for (t, s) in zip(tensors, spec.graph.initializers) where s.data.byteCount < options.inlineThreshold {
            #expect(t.has_data_location == 0 && t.n_external_data == 0)
            #expect(PB.binary(t.raw_data) == (try s.data.materialize()))
        }
    }

    @Test func alignedToPages() throws { try check(alignment: 4096) }
    @Test func alignedToSixtyFourBytes() throws { try check(alignment: 64) }
    @Test func packedBackToBack() throws { try check(alignment: 1) }

    @Test func thresholdAndDataFileNameAreHonoured() throws {
        var options = SerializeOptions()
        options.externalData = .always
        options.inlineThreshold = 4000
        options.modelFileName = "encoder.onnx"
        options.dataFileName = "encoder.weights"
        let report = try ONNXSerializer.write(try model(), toDirectory: scratch.path, options: options)
        #expect(report.externalTensorCount == 1)  // only the 8000-byte "a"
        #expect(report.dataPath == scratch.path + "/encoder.weights")
        #expect(report.dataBytes == 8000)
        let unpacked = try UnpackedModel(report.modelPath)
        let external = PB.items(try unpacked.graph.initializer, try unpacked.graph.n_initializer).filter { $0.n_external_data > 0 }
        #expect(external.map { PB.text($0.name) } == ["a"])
        #expect(external.map { PB.external($0)["location"] } == ["encoder.weights"])
        #expect(external.map { PB.external($0)["offset"] } == ["0"])
        let listed = try scratch.listing().filter { !$0.hasPrefix("weights-") }
        #expect(listed == ["encoder.onnx", "encoder.weights"], "listing: \(listed)")
    }

    @Test func autoKeepsASmallModelInOneFile() throws {
        let report = try ONNXSerializer.write(try model(), toDirectory: scratch.path, options: SerializeOptions())
        #expect(report.dataPath == nil && report.externalTensorCount == 0)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/model.onnx_data"))
    }

    /// An inline export over an earlier external one removes the old data file, which no longer
    /// matches anything; a folder of that name is left alone.
    @Test func inlineExportRemovesAStaleDataFile() throws {
        var options = SerializeOptions()
        options.externalData = .always
        _ = try ONNXSerializer.write(try model(), toDirectory: scratch.path, options: options)
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/model.onnx_data"))
        options.externalData = .never
        let report = try ONNXSerializer.write(try model(), toDirectory: scratch.path, options: options)
        #expect(report.dataPath == nil)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/model.onnx_data"))

        let folder = try scratch.child("with-folder")
        try FileManager.default.createDirectory(atPath: folder + "/model.onnx_data", withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: folder + "/model.onnx_data/keep"))
        _ = try ONNXSerializer.write(try model(), toDirectory: folder, options: options)
        #expect(FileManager.default.fileExists(atPath: folder + "/model.onnx_data/keep"))
    }
}

private extension TensorData {
    /// A `[n]` vector seen through a `[n, 1]` → `[1, n]` transpose: bytes computed while streaming.
    func transposedColumn() throws -> TensorData {
        try TensorData(dtype: dtype, shape: [elementCount, 1], storage: storage).transposed()
    }
}
