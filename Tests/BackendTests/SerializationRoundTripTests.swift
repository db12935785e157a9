import COnnxProto
import CProtobufC
import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// Every field the serializer writes, read back through protobuf-c's unpacker.
@Suite struct SerializationRoundTripTests {
    let scratch: SerializationScratch
    init() throws { scratch = try SerializationScratch() }

    /// A model touching every field the spec can express, with weights from every kind of source.
    func richModel() throws -> ONNXModelSpec {
        var graph = ONNXGraphSpec(name: "rich")
        graph.inputs = [
            ONNXValueInfoSpec(name: "input_ids", type: TensorType(.int64, [.batchSize, .sequenceLength])),
            ONNXValueInfoSpec(name: "past", type: TensorType(.float16, [.batchSize, .fixed(2), .pastSequenceLength, .fixed(8)])),
        ]
        graph.outputs = [ONNXValueInfoSpec(name: "y", type: TensorType(.float32, [.batchSize, .pastSequenceLength + .sequenceLength, .unknown, .fixed(4)]))]
        graph.valueInfo = [ONNXValueInfoSpec(name: "h", type: TensorType(.bool, []))]
        graph.nodes = [
            ONNXNodeSpec(name: "/layer.0/Custom", opType: "Custom", domain: "com.example", inputs: ["input_ids", "", "w"], outputs: ["h"], attributes: [
                .init("i", .int(-3)), .init("f", .float(0.25)), .init("s", .string("tanh")), .init("is", .ints([0, 2, -1])),
                .init("fs", .floats([1.5, -2.5])), .init("ss", .strings(["a", "bc", ""])),
                .init("value", .tensor(ONNXInitializerSpec(name: "const", data: .int64([7, 8, 9], shape: [3, 1])))),
                .init("empty", .ints([])),
            ]),
            ONNXNodeSpec(name: "", opType: "Identity", inputs: ["h"], outputs: ["y"]),
        ]
        let matrix = (0..<6).map { Float($0) }  // [2, 3], transposed on the way out
        graph.initializers = [
            ONNXInitializerSpec(name: "w", data: try scratch.floats((0..<2000).map(Float.init))),
            ONNXInitializerSpec(name: "small", data: .int64([1, 2, 3])),
            ONNXInitializerSpec(name: "scalar", data: .float32([0.5], shape: [])),
            ONNXInitializerSpec(name: "w.T", data: try scratch.floats(matrix, shape: [2, 3]).transposed()),
            ONNXInitializerSpec(name: "produced", data: try .produced(ChunkedProducer(payload: Array(0..<40)), dtype: .uint8, shape: [5, 8])),
            ONNXInitializerSpec(name: "empty", data: .float32([], shape: [0, 3])),
        ]
        var model = ONNXModelSpec(irVersion: 8, opsetImports: [.init(version: 17), .init(domain: "com.example", version: 1)], graph: graph)
        model.producerName = "onnx-export-test"
        model.producerVersion = "9.9"
        model.docString = "a model for the round trip"
        model.metadata = [("task", "fill-mask"), ("model_type", "bert")]
        return model
    }

    @Test func everyFieldRoundTripsInline() throws {
        var options = SerializeOptions()
        options.externalData = .never
        let report = try ONNXSerializer.write(try richModel(), toDirectory: scratch.path, options: options)
        #expect(report.dataPath == nil && report.dataBytes == 0 && report.externalTensorCount == 0)
        #expect(report.modelPath == scratch.path + "/model.onnx")
        let unpacked = try UnpackedModel(report.modelPath)
        #expect(report.modelBytes == unpacked.fileSize)
        #expect(unpacked.repackedSize == unpacked.fileSize)

        let m = unpacked.model
        #expect(m.has_ir_version == 1 && m.ir_version == 8)
        let opsets = PB.items(m.opset_import, m.n_opset_import)
        #expect(opsets.map { PB.text($0.domain) } == ["", "com.example"])
        #expect(opsets.map(\.version) == [17, 1])
        #expect(PB.text(m.producer_name) == "onnx-export-test" && PB.text(m.producer_version) == "9.9")
        #expect(PB.text(m.doc_string) == "a model for the round trip")
        let metadata = PB.items(m.metadata_props, m.n_metadata_props)
        #expect(metadata.map { [PB.text($0.key), PB.text($0.value)] } == [["task", "fill-mask"], ["model_type", "bert"]])

        let g = try unpacked.graph
        #expect(PB.text(g.name) == "rich")
        let inputs = PB.items(g.input, g.n_input)
        #expect(inputs.map { PB.text($0.name) } == ["input_ids", "past"])
        let idsType = try #require(inputs[0].type?.pointee.tensor_type?.pointee)
        #expect(idsType.elem_type == 7)
        let pastType = try #require(inputs[1].type?.pointee.tensor_type?.pointee)
        #expect(pastType.elem_type == 10)
        #expect(PB.dims(inputs[0]) == ["'batch_size'", "'sequence_length'"])
        #expect(PB.dims(inputs[1]) == ["'batch_size'", "2", "'past_sequence_length'", "8"])

        let output = try #require(PB.items(g.output, g.n_output).first)
        #expect(PB.text(output.name) == "y")
        let outType = try #require(output.type?.pointee.tensor_type?.pointee)
        #expect(outType.elem_type == 1)
        #expect(PB.dims(output) == ["'batch_size'", "'past_sequence_length + sequence_length'", "?", "4"])
        let unknown = try #require(outType.shape?.pointee.dim[2]?.pointee)
        #expect(unknown.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET && unknown.denotation == nil)

        let info = try #require(PB.items(g.value_info, g.n_value_info).first)
        #expect(PB.text(info.name) == "h")
        let infoType = try #require(info.type?.pointee.tensor_type?.pointee)
        #expect(infoType.elem_type == 9)
        #expect(PB.dims(info) == [])  // a scalar has a shape with no dims, not a missing shape

        let nodes = PB.items(g.node, g.n_node)
        #expect(nodes.map { PB.text($0.name) } == ["/layer.0/Custom", nil])
        #expect(nodes.map { PB.text($0.op_type) } == ["Custom", "Identity"])
        #expect(nodes.map { PB.text($0.domain) } == ["com.example", nil])
        #expect(PB.strings(nodes[0].input, nodes[0].n_input) == ["input_ids", "", "w"])
        #expect(PB.strings(nodes[0].output, nodes[0].n_output) == ["h"])
        #expect(nodes[1].n_attribute == 0)

        let attributes = PB.items(nodes[0].attribute, nodes[0].n_attribute)
        #expect(attributes.map { PB.text($0.name) } == ["i", "f", "s", "is", "fs", "ss", "value", "empty"])
        #expect(attributes.allSatisfy { $0.has_type == 1 })
        #expect(attributes.map(\.type) == [ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT,
                                          ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS,
                                          ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS,
                                          ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS])
        #expect(attributes[0].has_i == 1 && attributes[0].i == -3)
        #expect(attributes[1].has_f == 1 && attributes[1].f == 0.25)
        #expect(PB.binary(attributes[2].s) == Array("tanh".utf8))
        #expect(PB.values(attributes[3].ints, attributes[3].n_ints) == [0, 2, -1])
        #expect(PB.values(attributes[4].floats, attributes[4].n_floats) == [1.5, -2.5])
        #expect(PB.values(attributes[5].strings, attributes[5].n_strings).map(PB.binary) == [Array("a".utf8), Array("bc".utf8), []])
        let constant = try #require(attributes[6].t?.pointee)
        #expect(PB.text(constant.name) == "const" && constant.data_type == 7)
        #expect(PB.values(constant.dims, constant.n_dims) == [3, 1])
        #expect(PB.binary(constant.raw_data) == (TensorData.int64([7, 8, 9]).inlineBytes ?? []))
        #expect(attributes[7].n_ints == 0)

        let tensors = PB.items(g.initializer, g.n_initializer)
        #expect(tensors.map { PB.text($0.name) } == ["w", "small", "scalar", "w.T", "produced", "empty"])
        #expect(tensors.allSatisfy { $0.has_data_location == 0 && $0.n_external_data == 0 && $0.has_raw_data == 1 })
        #expect(tensors.map(\.data_type) == [1, 7, 1, 1, 2, 1])
        #expect(tensors.map { PB.values($0.dims, $0.n_dims) } == [[2000], [3], [], [3, 2], [5, 8], [0, 3]])
        #expect(PB.binary(tensors[0].raw_data) == floatBytes((0..<2000).map(Float.init)))
        #expect(PB.binary(tensors[1].raw_data) == (TensorData.int64([1, 2, 3]).inlineBytes ?? []))
        #expect(PB.binary(tensors[2].raw_data) == floatBytes([0.5]))
        #expect(PB.binary(tensors[3].raw_data) == floatBytes([0, 3, 1, 4, 2, 5]))
        #expect(PB.binary(tensors[4].raw_data) == Array(0..<40))
        #expect(tensors[5].raw_data.len == 0)
    }

    /// Payloads over the writer's 1 MiB buffer and across a filesystem boundary (tmpfs source,
    /// where `copy_file_range` may refuse and the chunked fallback runs) arrive intact.
    @Test func largeAndCrossFilesystemPayloadsArriveIntact() throws {
        let big = (0..<(700 * 1024)).map { Float($0 % 9973) }  // 2.8 MB in memory
        var graph = ONNXGraphSpec(name: "big")
        graph.initializers = [ONNXInitializerSpec(name: "memory", data: .float32(big))]
        // Where there is no /dev/shm the source simply shares the output's filesystem.
        let root = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : scratch.path
        let tmpfs = root + "/serialization-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmpfs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmpfs) }
        graph.initializers.append(ONNXInitializerSpec(name: "tmpfs", data: try scratch.floats(Array(big.reversed()), in: tmpfs)))
        for mode in [ExternalDataMode.never, .always] {
            var options = SerializeOptions()
            options.externalData = mode
            options.modelFileName = "\(mode).onnx"
            options.dataFileName = "\(mode).onnx_data"
            _ = try ONNXSerializer.write(ONNXModelSpec(irVersion: 8, opsetImports: [.init(version: 17)], graph: graph),
                                         toDirectory: scratch.path, options: options)
        }
        let unpacked = try UnpackedModel(scratch.path + "/never.onnx")
        let tensors = PB.items(try unpacked.graph.initializer, try unpacked.graph.n_initializer)
        #expect(tensors.count == 2)
        #expect(PB.binary(tensors[0].raw_data) == floatBytes(big))
        #expect(PB.binary(tensors[1].raw_data) == floatBytes(Array(big.reversed())))
        let data = try fileBytes(scratch.path + "/always.onnx_data")
        let second = try UnpackedModel(scratch.path + "/always.onnx")
        let entries = PB.items(try second.graph.initializer, try second.graph.n_initializer).map(PB.external)
        let offset = try #require(Int(entries[1]["offset"] ?? ""))
        #expect(Array(data[0..<(big.count * 4)]) == floatBytes(big))
        #expect(Array(data[offset...]) == floatBytes(Array(big.reversed())))
    }

    @Test func sameSpecGivesSameBytes() throws {
        let model = try richModel()
        var options = SerializeOptions()
        options.externalData = .always
        let first = try ONNXSerializer.write(model, toDirectory: try scratch.child("a"), options: options)
        let second = try ONNXSerializer.write(model, toDirectory: try scratch.child("b"), options: options)
        #expect(try fileBytes(first.modelPath) == fileBytes(second.modelPath))
        #expect(try fileBytes(try #require(first.dataPath)) == fileBytes(try #require(second.dataPath)))
        options.externalData = .never
        let third = try ONNXSerializer.write(model, toDirectory: try scratch.child("c"), options: options)
        let fourth = try ONNXSerializer.write(model, toDirectory: try scratch.child("c"), options: options)
        #expect(try fileBytes(third.modelPath) == fileBytes(fourth.modelPath))
    }

    /// The splice is ordinary protobuf: onnx's field order differs, the bytes do not otherwise.
    /// Unpacking and repacking with protobuf-c gives a file of the same size whose messages hold
    /// the same values.
    @Test func repackingTheUnpackedModelKeepsEverything() throws {
        let report = try ONNXSerializer.write(try matMulAddModel(scratch), toDirectory: scratch.path, options: SerializeOptions())
        let unpacked = try UnpackedModel(report.modelPath)
        var repacked = [UInt8](repeating: 0, count: unpacked.repackedSize)
        let count = repacked.withUnsafeMutableBufferPointer { buffer in
            unpacked.message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { protobuf_c_message_pack($0, buffer.baseAddress) }
        }
        #expect(count == unpacked.fileSize)
        #expect(repacked.sorted() == (try fileBytes(report.modelPath)).sorted())
        let again = try UnpackedModel(report.modelPath)
        #expect(again.repackedSize == count)
    }
}
