import COnnxProto
import CProtobufC
import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// A private folder for one test, removed when the test lets go of it.
final class SerializationScratch {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "serialization-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func child(_ name: String) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// A file holding `prefix` junk bytes and then `bytes`, as a checkpoint would.
    func region(_ bytes: [UInt8], prefix: Int = 3, in folder: String? = nil) throws -> FileRegion {
        let file = (folder ?? path) + "/weights-\(UUID().uuidString).bin"
        try Data([UInt8](repeating: 0xee, count: prefix) + bytes).write(to: URL(fileURLWithPath: file))
        return FileRegion(path: file, offset: prefix, length: bytes.count)
    }

    /// A float32 tensor whose bytes sit in a file.
    func floats(_ values: [Float], shape: [Int]? = nil, in folder: String? = nil) throws -> TensorData {
        try TensorData.file(try region(floatBytes(values), in: folder), dtype: .float32, shape: shape ?? [values.count])
    }

    /// A sparse file of `size` bytes: large tensors without writing gigabytes.
    func sparseFile(_ name: String, size: Int) throws -> String {
        let file = path + "/" + name
        try Data().write(to: URL(fileURLWithPath: file))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return file
    }

    func listing(_ folder: String? = nil) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: folder ?? path))
    }
}

/// Little-endian bytes of float32 values (what raw_data holds).
func floatBytes(_ values: [Float]) -> [UInt8] { TensorData.float32(values).inlineBytes ?? [] }

func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// A model file read back through protobuf-c's own unpacker (freed with this object).
final class UnpackedModel {
    let message: UnsafeMutablePointer<Onnx__ModelProto>
    let fileSize: Int

    init(_ path: String) throws {
        let data = try fileBytes(path)
        fileSize = data.count
        message = try #require(data.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) })
    }

    deinit { onnx__model_proto__free_unpacked(message, nil) }

    var model: Onnx__ModelProto { message.pointee }

    var graph: Onnx__GraphProto {
        get throws { try #require(model.graph).pointee }
    }

    /// Size protobuf-c computes for the unpacked message: equal to the file size exactly when
    /// every byte of the file was understood as a known field (nothing lost, nothing doubled).
    var repackedSize: Int {
        message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { protobuf_c_message_get_packed_size($0) }
    }
}

/// Readers for protobuf-c's C structs.
enum PB {
    static func text(_ p: UnsafeMutablePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

    /// The pointees of a repeated message field.
    static func items<T>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ count: Int) -> [T] {
        guard let p else { return [] }
        return (0..<count).compactMap { p[$0]?.pointee }
    }

    static func values<T>(_ p: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
        guard let p else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    static func strings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int) -> [String] {
        guard let p else { return [] }
        return (0..<count).map { text(p[$0]) ?? "<nil>" }
    }

    static func binary(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard let p = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: data.len))
    }

    /// A dimension as text: `dim_value` and `dim_param` share a union, so read by `value_case`.
    static func dim(_ d: Onnx__TensorShapeProto__Dimension) -> String {
        switch d.value_case {
        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE: return "\(d.dim_value)"
        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM: return "'\(text(d.dim_param) ?? "")'"
        default: return "?"
        }
    }

    /// The dims of a value's tensor type.
    static func dims(_ v: Onnx__ValueInfoProto) -> [String]? {
        guard let shape = v.type?.pointee.tensor_type?.pointee.shape?.pointee else { return nil }
        return items(shape.dim, shape.n_dim).map(dim)
    }

    /// A tensor's external_data entries as a dictionary.
    static func external(_ t: Onnx__TensorProto) -> [String: String] {
        var entries: [String: String] = [:]
        for e in items(t.external_data, t.n_external_data) { entries[text(e.key) ?? ""] = text(e.value) ?? "" }
        return entries
    }
}

/// `Y = MatMul(X, W) + B` over `[batch_size, sequence_length, 4]`: the model the onnx checker
/// and onnxruntime were shown by hand, inline and with external data.
func matMulAddModel(_ scratch: SerializationScratch, weightsIn folder: String? = nil) throws -> ONNXModelSpec {
    var graph = ONNXGraphSpec(name: "matmul_add")
    graph.inputs = [ONNXValueInfoSpec(name: "X", type: TensorType(.float32, [.batchSize, .sequenceLength, .fixed(4)]))]
    graph.outputs = [ONNXValueInfoSpec(name: "Y", type: TensorType(.float32, [.batchSize, .sequenceLength, .fixed(3)]))]
    graph.valueInfo = [ONNXValueInfoSpec(name: "XW", type: TensorType(.float32, [.batchSize, .sequenceLength, .fixed(3)]))]
    graph.nodes = [
        ONNXNodeSpec(name: "/MatMul", opType: "MatMul", inputs: ["X", "W"], outputs: ["XW"]),
        ONNXNodeSpec(name: "/Add", opType: "Add", inputs: ["XW", "B"], outputs: ["Y"]),
    ]
    graph.initializers = [
        ONNXInitializerSpec(name: "W", data: try scratch.floats((0..<12).map { Float($0) / 8 }, shape: [4, 3], in: folder)),
        ONNXInitializerSpec(name: "B", data: .float32([0.5, -1, 2])),
    ]
    return ONNXModelSpec(irVersion: 8, opsetImports: [.init(version: 17)], graph: graph)
}

/// Produces bytes in odd-sized pieces, like an inflating zip reader.
struct ChunkedProducer: TensorByteProducer {
    var payload: [UInt8]
    var identity: String { "chunked:\(payload.count)" }
    var byteCount: Int { payload.count }
    func stream(into sink: TensorByteSink) throws {
        var start = 0
        while start < payload.count {
            let end = min(payload.count, start + 7)
            try payload[start..<end].withUnsafeBytes { try sink.write($0) }
            start = end
        }
    }
}
