import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// The 2 GiB limit, bad options and failing sources: each is an `ExportError`, and a failed
/// write leaves the folder exactly as it was.
@Suite struct SerializationFailureTests {
    let scratch: SerializationScratch
    init() throws { scratch = try SerializationScratch() }

    /// Just over 2 GiB of float32 in a sparse file (nothing is written to disk).
    func hugeTensor() throws -> ONNXInitializerSpec {
        let count = (1 << 29) + 1024
        let path = try scratch.sparseFile("huge.bin", size: count * 4)
        return ONNXInitializerSpec(name: "huge", data: try TensorData.file(FileRegion(path: path, offset: 0, length: count * 4),
                                                                         dtype: .float32, shape: [count]))
    }

    @Test func neverRefusesTwoGiBInline() throws {
        var model = try matMulAddModel(scratch)
        model.graph.initializers.append(try hugeTensor())
        let before = try scratch.listing()
        var options = SerializeOptions()
        options.externalData = .never
        let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: options) }
        #expect(error?.message.contains("2 GiB") == true)
        #expect(error?.message.contains("external data") == true)
        #expect(try scratch.listing() == before)
    }

    @Test func autoAndAlwaysMoveTheHugeTensorOut() throws {
        var model = try matMulAddModel(scratch)
        model.graph.initializers.append(try hugeTensor())
        for mode in [ExternalDataMode.auto, .always] {
            var options = SerializeOptions()
            options.externalData = mode
            let plan = try ONNXSerializer.plan(model, options: options).get()
            #expect(plan.entries.map { $0.external != nil } == [false, false, true])  // W and B are under 1 KiB
            #expect(plan.entries.last?.external?.length == ((1 << 29) + 1024) * 4)
            #expect(plan.modelBytes < 4096)
        }
    }

    /// Just under the limit stays inline with `never`; `auto` keeps a safety margin and moves out.
    @Test func autoMovesOutBeforeTheLimit() throws {
        var model = try matMulAddModel(scratch)
        let count = (1 << 29) - (2 << 20)  // 8 MiB under 2 GiB
        let path = try scratch.sparseFile("near.bin", size: count * 4)
        model.graph.initializers.append(ONNXInitializerSpec(name: "near", data: try TensorData.file(
            FileRegion(path: path, offset: 0, length: count * 4), dtype: .float32, shape: [count])))
        var never = SerializeOptions()
        never.externalData = .never
        let inline = try ONNXSerializer.plan(model, options: never).get()
        #expect(inline.externalCount == 0 && inline.modelBytes < 1 << 31)
        let auto = try ONNXSerializer.plan(model, options: SerializeOptions()).get()
        #expect(auto.externalCount == 1)
    }

    @Test func missingSourceLeavesNoFiles() throws {
        for mode in [ExternalDataMode.never, .always] {
            var model = try matMulAddModel(scratch)
            model.graph.initializers.append(ONNXInitializerSpec(name: "gone", data: try TensorData.file(
                FileRegion(path: scratch.path + "/missing.bin", offset: 0, length: 4096), dtype: .float32, shape: [1024])))
            let before = try scratch.listing()
            var options = SerializeOptions()
            options.externalData = mode
            let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: options) }
            #expect(error?.message.contains("missing.bin") == true)
            #expect(try scratch.listing() == before)
        }
    }

    /// A failed export over an earlier one leaves the earlier files untouched.
    @Test func failureKeepsThePreviousModel() throws {
        var options = SerializeOptions()
        options.externalData = .always
        options.inlineThreshold = 0
        let good = try ONNXSerializer.write(try matMulAddModel(scratch), toDirectory: scratch.path, options: options)
        let modelBytes = try fileBytes(good.modelPath)
        let dataBytes = try fileBytes(try #require(good.dataPath))
        var model = try matMulAddModel(scratch)
        let short = try scratch.region(floatBytes([1, 2]))  // the tensor claims 4 floats, the file holds 2 after the offset
        model.graph.initializers.append(ONNXInitializerSpec(name: "short", data: TensorData(dtype: .float32, shape: [4],
                                                            storage: .file(FileRegion(path: short.path, offset: short.offset, length: 16)))))
        let before = try scratch.listing()
        #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: options) }
        #expect(try scratch.listing() == before)
        #expect(try fileBytes(good.modelPath) == modelBytes)
        #expect(try fileBytes(try #require(good.dataPath)) == dataBytes)
    }

    /// A source that delivers fewer bytes than announced would shift every later field.
    @Test func shortProducerIsCaught() throws {
        struct Liar: TensorByteProducer {
            var identity: String { "liar" }
            var byteCount: Int { 16 }
            func stream(into sink: TensorByteSink) throws { try [UInt8](repeating: 1, count: 8).withUnsafeBytes { try sink.write($0) } }
        }
        var model = try matMulAddModel(scratch)
        model.graph.initializers.append(ONNXInitializerSpec(name: "liar", data: try .produced(Liar(), dtype: .float32, shape: [4])))
        let before = try scratch.listing()
        let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: SerializeOptions()) }
        #expect(error?.message.contains("'liar'") == true)
        #expect(try scratch.listing() == before)
    }

    /// When the final rename fails (a folder sits at the model's name) the error names the model
    /// file and the temporaries are gone.
    @Test func renameFailureNamesTheModelAndCleansUp() throws {
        try FileManager.default.createDirectory(atPath: scratch.path + "/model.onnx/inside", withIntermediateDirectories: true)
        let before = try scratch.listing()
        let error = #expect(throws: ExportError.self) {
            try ONNXSerializer.write(try matMulAddModel(scratch), toDirectory: scratch.path, options: SerializeOptions())
        }
        #expect(error?.message.contains(scratch.path + "/model.onnx") == true)
        #expect(error?.message.contains(".tmp-") == false)
        #expect(try scratch.listing().subtracting(before).allSatisfy { $0.hasPrefix("weights-") })
        #expect(try scratch.listing().allSatisfy { !$0.contains(".tmp-") })
    }

    @Test func missingOutputFolderIsAnError() throws {
        let error = #expect(throws: ExportError.self) {
            try ONNXSerializer.write(try matMulAddModel(scratch), toDirectory: scratch.path + "/absent", options: SerializeOptions())
        }
        #expect(error?.message.contains("absent/model.onnx") == true)
    }

    @Test(arguments: [
        ("", "model.onnx_data", 4096), ("model.onnx", "../w.bin", 4096), ("model.onnx", "sub/w.bin", 4096),
        ("model.onnx", "model.onnx", 4096), ("model.onnx", "model.onnx_data", 0), ("..", "model.onnx_data", 4096),
    ])
    func badOptionsAreRefused(model: String, data: String, alignment: Int) throws {
        var options = SerializeOptions()
        options.modelFileName = model
        options.dataFileName = data
        options.alignment = alignment
        #expect(throws: ExportError.self) { try ONNXSerializer.write(try matMulAddModel(scratch), toDirectory: scratch.path, options: options) }
        #expect(try scratch.listing().allSatisfy { $0.hasPrefix("weights-") })
    }

    /// protobuf-c reads names as C strings: a NUL would silently cut one short.
    @Test func nulInANameIsRefused() throws {
        var model = try matMulAddModel(scratch)
        model.graph.initializers[1].name = "B\0hidden"
        let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: SerializeOptions()) }
        #expect(error?.message.contains("NUL") == true)
    }

    /// Attribute tensors are packed from memory, so a huge one is refused before it is read.
    @Test func hugeAttributeTensorIsRefusedUnread() throws {
        let count = 80 << 20  // 320 MiB of float32, sparse
        let path = try scratch.sparseFile("const.bin", size: count * 4)
        var model = try matMulAddModel(scratch)
        model.graph.nodes.append(ONNXNodeSpec(name: "/Constant", opType: "Constant", inputs: [], outputs: ["big"], attributes: [
            .init("value", .tensor(ONNXInitializerSpec(name: "big", data: try TensorData.file(
                FileRegion(path: path, offset: 0, length: count * 4), dtype: .float32, shape: [count])))),
        ]))
        let error = #expect(throws: ExportError.self) { try ONNXSerializer.write(model, toDirectory: scratch.path, options: SerializeOptions()) }
        #expect(error?.message.contains("/Constant") == true)
        #expect(error?.message.contains("initializer") == true)
    }
}
