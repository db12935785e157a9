import COnnxProto
import CProtobufC
import Foundation
import Testing
@testable import ONNXExportBackend
import ONNXExportIR

/// Several model files written together: one shared data file holding each tensor once, every
/// file pointing at the same offsets, and the same staging guarantees as a single file.
@Suite struct BundleSerializationTests {
    let scratch: SerializationScratch
    init() throws { scratch = try SerializationScratch() }

    /// The MatMul + Add model with an extra 2000-float weight: `shared` is in both files, `own` in one.
    func models() throws -> [BundleFile] {
        let shared = try scratch.floats((0..<2000).map(Float.init))
        let own = try scratch.floats((0..<600).map { -Float($0) })
        var first = try matMulAddModel(scratch)
        first.graph.initializers.append(ONNXInitializerSpec(name: "shared", data: shared))
        var second = try matMulAddModel(scratch)
        second.graph.initializers += [ONNXInitializerSpec(name: "own", data: own), ONNXInitializerSpec(name: "shared.copy", data: shared)]
        return [BundleFile(fileName: "encoder_model.onnx", model: first), BundleFile(fileName: "decoder_model.onnx", model: second)]
    }

    @Test func sharedTensorsAreStoredOnce() throws {
        let out = try scratch.child("out")
        let report = try ONNXSerializer.write(bundle: try models(), toDirectory: out, options: SerializeOptions())
        #expect(try scratch.listing(out) == ["encoder_model.onnx", "decoder_model.onnx", "model.onnx_data"])
        let data = try fileBytes(try #require(report.dataPath))
        #expect(report.dataBytes == data.count)
        #expect(report.externalTensorCount == 2)  // shared and own; W and B stay inline in each file
        var places: [String: (Int, Int)] = [:]
        for (path, bytes) in report.models {
            let unpacked = try UnpackedModel(path)
            #expect(unpacked.fileSize == bytes && unpacked.repackedSize == bytes)
            for t in PB.items(try unpacked.graph.initializer, try unpacked.graph.n_initializer) where t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
                let e = PB.external(t)
                #expect(e["location"] == "model.onnx_data")
                places[PB.text(t.name) ?? ""] = (Int(e["offset"] ?? "") ?? -1, Int(e["length"] ?? "") ?? -1)
            }
        }
        let shared = try #require(places["shared"]), copy = try #require(places["shared.copy"]), own = try #require(places["own"])
        #expect(shared == copy)
        #expect(shared.0 % 4096 == 0 && own.0 % 4096 == 0 && shared.0 != own.0)
        #expect(Array(data[shared.0..<(shared.0 + 8)]) == floatBytes([0, 1]))
        #expect(Array(data[own.0..<(own.0 + 8)]) == floatBytes([-0.0, -1]))
    }

    @Test func neverKeepsEveryFileSelfContained() throws {
        var options = SerializeOptions()
        options.externalData = .never
        let out = try scratch.child("out")
        let report = try ONNXSerializer.write(bundle: try models(), toDirectory: out, options: options)
        #expect(report.dataPath == nil)
        #expect(try scratch.listing(out) == ["encoder_model.onnx", "decoder_model.onnx"])
    }

    @Test func duplicateFileNamesAreRefusedBeforeWriting() throws {
        var files = try models()
        files[1].fileName = files[0].fileName
        #expect(throws: ExportError.self) { try ONNXSerializer.write(bundle: files, toDirectory: scratch.path, options: SerializeOptions()) }
        files[1].fileName = "model.onnx_data"
        #expect(throws: ExportError.self) { try ONNXSerializer.write(bundle: files, toDirectory: scratch.path, options: SerializeOptions()) }
        #expect(try scratch.listing().filter { $0.hasSuffix(".onnx") || $0.contains("onnx_data") }.isEmpty)
    }
}

/// Two lowered graphs joined under one `If`: outer inputs, one initializer per tensor, branch
/// names apart, and an output no node computes refused.
@Suite struct BranchMergeTests {
    let scratch: SerializationScratch
    init() throws { scratch = try SerializationScratch() }

    func spec(inputs: [String], outputs: [String], nodes: [ONNXNodeSpec], initializers: [ONNXInitializerSpec]) -> ONNXModelSpec {
        var g = ONNXGraphSpec(name: "decoder")
        g.inputs = inputs.map { ONNXValueInfoSpec(name: $0, type: TensorType(.float32, [.batchSize, .fixed(4)])) }
        g.outputs = outputs.map { ONNXValueInfoSpec(name: $0, type: TensorType(.float32, [.batchSize, .fixed(4)])) }
        g.nodes = nodes
        g.initializers = initializers
        return ONNXModelSpec(irVersion: 8, opsetImports: [.init(version: 17)], graph: g)
    }

    @Test func mergesInputsWeightsAndNames() throws {
        let weight = try scratch.floats([1, 2, 3, 4])
        let first = spec(inputs: ["x", "states"], outputs: ["y", "cache"], nodes: [
            ONNXNodeSpec(name: "/Add", opType: "Add", inputs: ["x", "w"], outputs: ["/Add_output_0"]),
            ONNXNodeSpec(name: "/Mul", opType: "Mul", inputs: ["/Add_output_0", "/Constant_0"], outputs: ["y"]),
            ONNXNodeSpec(name: "/Neg", opType: "Neg", inputs: ["states"], outputs: ["cache"]),
        ], initializers: [ONNXInitializerSpec(name: "w", data: weight), ONNXInitializerSpec(name: "/Constant_0", data: .float32([2], shape: []))])
        let later = spec(inputs: ["x", "past"], outputs: ["y", "cache"], nodes: [
            ONNXNodeSpec(name: "/Add", opType: "Add", inputs: ["x", "w"], outputs: ["/Add_output_0"]),
            ONNXNodeSpec(name: "/Mul", opType: "Mul", inputs: ["/Add_output_0", "/Constant_0"], outputs: ["y"]),
            ONNXNodeSpec(name: "/PassCache", opType: "Identity", inputs: ["past"], outputs: ["cache"]),
        ], initializers: [ONNXInitializerSpec(name: "w", data: weight), ONNXInitializerSpec(name: "/Constant_0", data: .float32([3], shape: []))])
        let merged = try BranchMerge.merge(condition: "use_cache_branch", whenTrue: later, trueLabel: "with_past",
                                           whenFalse: first, falseLabel: "first_step", name: "merged")
        let g = merged.graph
        #expect(g.inputs.map(\.name) == ["x", "states", "past", "use_cache_branch"])
        #expect(g.inputs.last?.type == TensorType(.bool, [.fixed(1)]))
        #expect(g.outputs.map(\.name) == ["y", "cache"])
        // One `w` for both branches; the two different constants under distinct names (the true
        // branch, taken first, keeps the plain one).
        #expect(g.initializers.map(\.name) == ["w", "/Constant_0", "/first_step/Constant_0"])
        let node = try #require(g.nodes.first)
        #expect(g.nodes.count == 1 && node.opType == "If" && node.inputs == ["use_cache_branch"] && node.outputs == ["y", "cache"])
        guard case .graph(let then) = node.attributes[0].value, case .graph(let otherwise) = node.attributes[1].value else {
            Issue.record("If without its branches"); return
        }
        #expect(node.attributes.map(\.name) == ["then_branch", "else_branch"])
        #expect(then.inputs.isEmpty && then.initializers.isEmpty && otherwise.initializers.isEmpty)
        #expect(then.nodes.map(\.inputs) == [["x", "w"], ["/with_past/Add_output_0", "/Constant_0"], ["past"]])
        #expect(then.outputs.map(\.name) == ["/with_past/y", "/with_past/cache"])
        #expect(otherwise.nodes.map(\.outputs) == [["/first_step/Add_output_0"], ["/first_step/y"], ["/first_step/cache"]])
        #expect(otherwise.nodes[1].inputs == ["/first_step/Add_output_0", "/first_step/Constant_0"])
        // The merged model serializes (the subgraphs pack through protobuf-c) and reads back.
        let report = try ONNXSerializer.write(merged, toDirectory: scratch.path, options: SerializeOptions())
        let unpacked = try UnpackedModel(report.modelPath)
        #expect(unpacked.repackedSize == unpacked.fileSize)
    }

    @Test func refusesAnOutputNoNodeComputes() throws {
        let a = spec(inputs: ["x"], outputs: ["x2"], nodes: [ONNXNodeSpec(name: "/Neg", opType: "Neg", inputs: ["x"], outputs: ["x2"])], initializers: [])
        let b = spec(inputs: ["x2"], outputs: ["x2"], nodes: [], initializers: [])
        #expect(throws: ExportError.self) { try BranchMerge.merge(condition: "c", whenTrue: b, trueLabel: "t", whenFalse: a, falseLabel: "f", name: "m") }
    }

    @Test func refusesGraphsOfDifferentOutputs() throws {
        let a = spec(inputs: ["x"], outputs: ["y"], nodes: [ONNXNodeSpec(name: "/Neg", opType: "Neg", inputs: ["x"], outputs: ["y"])], initializers: [])
        let b = spec(inputs: ["x"], outputs: ["z"], nodes: [ONNXNodeSpec(name: "/Neg", opType: "Neg", inputs: ["x"], outputs: ["z"])], initializers: [])
        #expect(throws: ExportError.self) { try BranchMerge.merge(condition: "c", whenTrue: a, trueLabel: "t", whenFalse: b, falseLabel: "f", name: "m") }
    }
}
