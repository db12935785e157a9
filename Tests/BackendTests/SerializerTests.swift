import COnnxProto
import CProtobufC
import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// The serializer's bytes, read back through protobuf-c's own unpacker: every field survives,
/// external data is aligned and exact, output is deterministic, and failures leave nothing.
@Suite struct SerializerTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "serializer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func weightsFile(_ values: [Float]) throws -> TensorData {
        let bytes = TensorData.float32(values).inlineBytes ?? []
        let path = folder + "/weights-\(UUID().uuidString).bin"
        FileManager.default.createFile(atPath: path, contents: Data([9, 9, 9] + bytes))
        return try TensorData.file(FileRegion(path: path, offset: 3, length: bytes.count), dtype: .float32, shape: [values.count])
    }

    func sampleModel(big: Int = 2000) throws -> ONNXModelSpec {
        var graph = ONNXGraphSpec(name: "sample")
        graph.inputs = [ONNXValueInfoSpec(name: "x", type: TensorType(.float32, [.batchSize, .pastSequenceLength + .sequenceLength, .unknown, 4]))]
        graph.outputs = [ONNXValueInfoSpec(name: "y", type: TensorType(.float32, [.batchSize, 4]))]
        graph.nodes = [ONNXNodeSpec(name: "/layer/Op", opType: "Custom", domain: "com.example", inputs: ["x", "", "w"], outputs: ["y"], attributes: [
            .init("i", .int(-3)), .init("f", .float(0.25)), .init("s", .string("tanh")), .init("is", .ints([0, 2, 1])),
            .init("fs", .floats([1.5, 2.5])), .init("ss", .strings(["a", "bc"])),
            .init("t", .tensor(ONNXInitializerSpec(name: "value", data: .int64([7, 8])))),
        ])]
        graph.initializers = [
            ONNXInitializerSpec(name: "w", data: try weightsFile((0..<big).map(Float.init))),
            ONNXInitializerSpec(name: "small", data: .int64([1, 2, 3])),
            ONNXInitializerSpec(name: "scalar", data: .float32([0.5], shape: [])),
        ]
        var model = ONNXModelSpec(irVersion: 8, opsetImports: [.init(version: 17), .init(domain: "com.example", version: 1)], graph: graph)
        model.metadata = [("task", "fill-mask")]
        return model
    }

    /// Unpacks `path` with protobuf-c and hands the message to `body`.
    func unpacked<T>(_ path: String, _ body: (Onnx__ModelProto) throws -> T) throws -> T {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let message = try #require(bytes.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) })
        defer { onnx__model_proto__free_unpacked(message, nil) }
        return try body(message.pointee)
    }

    func string(_ p: UnsafeMutablePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

    func floats(_ data: ProtobufCBinaryData) -> [Float] {
        (0..<(data.len / 4)).map { i in data.data.withMemoryRebound(to: UInt8.self, capacity: data.len) { p in
            Float(bitPattern: UInt32(p[4 * i]) | UInt32(p[4 * i + 1]) << 8 | UInt32(p[4 * i + 2]) << 16 | UInt32(p[4 * i + 3]) << 24)
        } }
    }

    @Test func inlineModelRoundTripsThroughProtobufC() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = SerializeOptions()
        options.externalData = .never
        let report = try ONNXSerializer.write(try sampleModel(), toDirectory: folder, options: options)
        #expect(report.dataPath == nil)
        #expect(report.modelBytes == (try FileManager.default.attributesOfItem(atPath: report.modelPath)[.size] as? Int))
        try unpacked(report.modelPath) { m in
            #expect(m.ir_version == 8)
            #expect(m.n_opset_import == 2)
            #expect(string(m.opset_import[1]!.pointee.domain) == "com.example")
            #expect(string(m.producer_name) == "onnx-export")
            #expect(string(m.metadata_props[0]!.pointee.value) == "fill-mask")
            let g = try #require(m.graph).pointee
            #expect(string(g.name) == "sample")
            let input = g.input[0]!.pointee.type.pointee.tensor_type.pointee
            #expect(input.elem_type == 1)
            let dims = (0..<input.shape.pointee.n_dim).map { input.shape.pointee.dim[$0]!.pointee }
            #expect(string(dims[0].dim_param) == "batch_size")
            #expect(string(dims[1].dim_param) == "past_sequence_length + sequence_length")
            #expect(dims[2].value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET)
            #expect(dims[3].dim_value == 4)
            let node = g.node[0]!.pointee
            #expect(string(node.op_type) == "Custom" && string(node.domain) == "com.example")
            #expect((0..<node.n_input).map { string(node.input[$0]) } == ["x", "", "w"])
            let attributes = (0..<node.n_attribute).map { node.attribute[$0]!.pointee }
            #expect(attributes.allSatisfy { $0.has_type == 1 })
            #expect(attributes[0].i == -3 && attributes[1].f == 0.25)
            #expect(Array(UnsafeBufferPointer(start: attributes[3].ints, count: attributes[3].n_ints)) == [0, 2, 1])
            #expect(attributes[6].t.pointee.raw_data.len == 16)
            #expect(g.n_initializer == 3)
            let w = g.initializer[0]!.pointee
            #expect(string(w.name) == "w" && w.data_type == 1 && w.dims[0] == 2000)
            #expect(floats(w.raw_data) == (0..<2000).map(Float.init))
            #expect(g.initializer[2]!.pointee.n_dims == 0)
        }
    }

    @Test func externalDataIsAlignedAndExact() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var model = try sampleModel()
        model.graph.initializers.append(ONNXInitializerSpec(name: "w2", data: try weightsFile((0..<700).map { Float($0) * 2 })))
        var options = SerializeOptions()
        options.externalData = .always
        let report = try ONNXSerializer.write(model, toDirectory: folder, options: options)
        #expect(report.externalTensorCount == 2)
        let dataPath = try #require(report.dataPath)
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dataPath)))
        try unpacked(report.modelPath) { m in
            let g = m.graph.pointee
            for (index, expected) in [(0, (0..<2000).map(Float.init)), (3, (0..<700).map { Float($0) * 2 })] {
                let t = g.initializer[index]!.pointee
                #expect(t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
                #expect(t.has_raw_data == 0)
                let entries = Dictionary(uniqueKeysWithValues: (0..<t.n_external_data).map {
                    (string(t.external_data[$0]!.pointee.key) ?? "", string(t.external_data[$0]!.pointee.value) ?? "")
                })
                #expect(entries["location"] == "model.onnx_data")
                let offset = try #require(Int(entries["offset"] ?? "")), length = try #require(Int(entries["length"] ?? ""))
                #expect(offset % 4096 == 0)
                #expect(length == expected.count * 4)
                let slice = Array(data[offset..<(offset + length)])
                #expect(slice == (TensorData.float32(expected).inlineBytes ?? []))
            }
            #expect(g.initializer[1]!.pointee.has_raw_data == 1)  // under the inline threshold
        }
    }

    @Test func sameSpecGivesSameBytes() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = try sampleModel()
        let first = try ONNXSerializer.write(model, toDirectory: folder, options: SerializeOptions())
        let a = try Data(contentsOf: URL(fileURLWithPath: first.modelPath))
        _ = try ONNXSerializer.write(model, toDirectory: folder, options: SerializeOptions())
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: first.modelPath))))
    }

    @Test func failureLeavesNoFiles() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var model = try sampleModel()
        model.graph.initializers.append(ONNXInitializerSpec(name: "gone", data: try TensorData.file(
            FileRegion(path: folder + "/missing.bin", offset: 0, length: 8), dtype: .float32, shape: [2])))
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: folder, options: SerializeOptions()) }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == before)
    }

    @Test func overTwoGiBIsRefusedInlineAndGoesExternalOnAuto() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sparse.bin"
        let count = (1 << 29) + 1024  // floats: just over 2 GiB of bytes, in a sparse file
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(count * 4))
        try handle.close()
        var model = try sampleModel(big: 4)
        model.graph.initializers.append(ONNXInitializerSpec(name: "huge", data: try TensorData.file(
            FileRegion(path: path, offset: 0, length: count * 4), dtype: .float32, shape: [count])))
        var never = SerializeOptions()
        never.externalData = .never
        let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: folder, options: never) }
        #expect(error?.message.contains("2 GiB") == true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/model.onnx"))
        let auto = ONNXSerializer.plan(model, options: SerializeOptions())
        #expect(try auto.get().externalCount >= 1)
        #expect(try auto.get().modelBytes < 1 << 20)
    }
}
