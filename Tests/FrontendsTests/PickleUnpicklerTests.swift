import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// The data opcodes of protocols 0–5 and the allowed torch globals, on pickles that load.
@Suite struct PickleUnpicklerTests {
    @Test func scalarsStringsAndBytes() throws {
        var p = PickleBytes()
        p.op(.emptyDict)
        p.op(.mark)
        p.string("int1"); p.int(5)
        p.string("int2"); p.int(0x1234)
        p.string("int4"); p.int(-7)
        p.string("int8"); p.int(Int(Int64.max))
        p.string("minus1"); p.op(.long1, [1, 0xFF])
        p.string("zero"); p.op(.long1, [0])
        p.string("large"); p.op(.long1, [9] + Array(repeating: 0, count: 8) + [1])
        p.string("long4"); p.op(.long4, PickleBytes.u32(2) + [0x00, 0x80])
        p.string("float"); p.op(.binFloat, [0x3F, 0xF8, 0, 0, 0, 0, 0, 0])
        p.string("none"); p.op(.none)
        p.string("true"); p.op(.newTrue)
        p.string("false"); p.op(.newFalse)
        p.string("short"); p.op(.shortBinUnicode, [2, 0xC3, 0xA9])
        p.string("long text"); p.op(.binUnicode8, PickleBytes.u64(3) + Array("abc".utf8))
        p.string("binstring"); p.op(.shortBinString, [2] + Array("py".utf8))
        p.string("bytes"); p.op(.shortBinBytes, [2, 1, 2])
        p.string("bytes8"); p.op(.binBytes8, PickleBytes.u64(1) + [9])
        p.string("text int"); p.op(.int, Array("42\n".utf8))
        p.string("text bool"); p.op(.int, Array("01\n".utf8))
        p.string("text long"); p.op(.long, Array("-123L\n".utf8))
        p.string("text float"); p.op(.float, Array("2.5\n".utf8))
        p.op(.setItems)
        p.op(.stop)

        let u = try Unpickled(p.bytes)
        #expect(try u.value("int1") == .int(5))
        #expect(try u.value("int2") == .int(0x1234))
        #expect(try u.value("int4") == .int(-7))
        #expect(try u.value("int8") == .int(Int(Int64.max)))
        #expect(try u.value("minus1") == .int(-1))
        #expect(try u.value("zero") == .int(0))
        #expect(try u.value("large") == .largeInt)
        #expect(try u.value("long4") == .int(-32768))
        #expect(try u.value("float") == .float(1.5))
        #expect(try u.value("none") == PickleValue.none)
        #expect(try u.value("true") == .bool(true))
        #expect(try u.value("false") == .bool(false))
        #expect(try u.value("short") == .string("é"))
        #expect(try u.value("long text") == .string("abc"))
        #expect(try u.value("binstring") == .string("py"))
        #expect(try u.value("bytes") == .bytes([1, 2]))
        #expect(try u.value("bytes8") == .bytes([9]))
        #expect(try u.value("text int") == .int(42))
        #expect(try u.value("text bool") == .bool(true))
        #expect(try u.value("text long") == .int(-123))
        #expect(try u.value("text float") == .float(2.5))
    }

    @Test func containersAndTheMemo() throws {
        var p = PickleBytes()
        p.op(.emptyDict)
        p.op(.binPut, [0])
        p.op(.mark)
        p.string("tuple"); p.int(1); p.int(2); p.int(3); p.op(.tuple3)
        p.string("list"); p.op(.emptyList); p.op(.binPut, [1]); p.op(.mark); p.int(1); p.int(2); p.op(.appends); p.int(3); p.op(.append)
        p.string("list again"); p.op(.binGet, [1])
        p.string("marked"); p.op(.mark); p.int(4); p.op(.list)
        p.string("set"); p.op(.emptySet); p.op(.mark); p.int(1); p.op(.addItems)
        p.string("frozen"); p.op(.mark); p.int(2); p.op(.frozenSet)
        p.string("dict"); p.op(.mark); p.string("k"); p.int(1); p.op(.dict)
        p.string("long memo"); p.int(9); p.op(.longBinPut, PickleBytes.u32(70_000)); p.op(.pop); p.op(.longBinGet, PickleBytes.u32(70_000))
        p.string("text memo"); p.int(8); p.op(.put, Array("12\n".utf8)); p.op(.pop); p.op(.get, Array("12\n".utf8))
        p.string("memoize"); p.int(7); p.op(.memoize); p.op(.pop); p.op(.binGet, [4])  // MEMOIZE stores at len(memo), 4 here
        p.string("dup"); p.int(6); p.op(.dup); p.op(.pop)
        p.string("myself"); p.op(.binGet, [0])  // the dict contains itself: no recursion anywhere
        p.string("replaced"); p.int(1)
        p.string("replaced"); p.int(2)
        p.op(.mark); p.int(1); p.int(2); p.op(.popMark)
        p.op(.setItems)
        p.op(.stop)

        let u = try Unpickled(p.bytes)
        #expect(u.items(try u.value("tuple")) == [.int(1), .int(2), .int(3)])
        #expect(u.items(try u.value("list")) == [.int(1), .int(2), .int(3)])
        #expect(try u.value("list again") == (try u.value("list")))
        #expect(u.items(try u.value("marked")) == [.int(4)])
        guard case .set(let set) = try u.value("set"), case .set(let frozen) = try u.value("frozen") else {
            Issue.record("expected sets")
            return
        }
        #expect(u.heap.sequences[set] == [.int(1)])
        #expect(u.heap.sequences[frozen] == [.int(2)])
        guard case .dict(let inner) = try u.value("dict") else { Issue.record("expected a dict"); return }
        #expect(u.heap.dicts[inner].value(forString: "k") == .int(1))
        #expect(try u.value("long memo") == .int(9))
        #expect(try u.value("text memo") == .int(8))
        #expect(try u.value("memoize") == .int(7))
        #expect(try u.value("dup") == .int(6))
        #expect(try u.value("myself") == u.result.root)
        #expect(try u.value("replaced") == .int(2))
        guard case .dict(let root) = u.result.root else { return }
        #expect(u.heap.dicts[root].entries.filter { $0.key == .string("replaced") }.count == 1)
    }

    @Test func protocol4FramesAndStackGlobal() throws {
        var body = PickleBytes(protocol: nil)
        body.stackGlobal("collections", "OrderedDict")
        body.op(.memoize)
        body.op(.emptyTuple)
        body.op(.reduce)
        body.shortString("a"); body.int(1); body.op(.setItem)
        body.op(.stop)
        var p = PickleBytes(protocol: 4)
        p.op(.frame, PickleBytes.u64(body.bytes.count))
        p.bytes += body.bytes

        let u = try Unpickled(p.bytes)
        #expect(try u.value("a") == .int(1))
        #expect(u.result.root == .dict(0))
    }

    @Test func torchStateDictFromTheWriter() throws {
        let bytes = PickleWriter.stateDict([
            .init(name: "w", storageClass: "FloatStorage", storageKey: "0", elements: 6, shape: [2, 3]),
            .init(name: "b", storageClass: "BFloat16Storage", storageKey: "1", elements: 3, shape: [3]),
        ])
        let u = try Unpickled(bytes)
        guard case .tensor(let w) = try u.value("w"), case .tensor(let b) = try u.value("b") else {
            Issue.record("expected tensors")
            return
        }
        #expect(u.heap.tensors[w] == PickleTensorRecord(storage: 0, storageOffset: 0, size: [2, 3], stride: [3, 1], dtype: nil,
                                                        position: u.heap.tensors[w].position))
        #expect(u.heap.tensors[b].size == [3])
        #expect(u.heap.storages == [
            PickleStorageReference(elementType: .float32, key: "0", location: "cpu", elementCount: 6),
            PickleStorageReference(elementType: .bfloat16, key: "1", location: "cpu", elementCount: 3),
        ])
    }

    @Test func untypedStorageRebuiltWithV3() throws {
        let bytes = PickleBytes.stateDict { p in
            p.string("u16")
            p.global("torch._utils", "_rebuild_tensor_v3")
            p.op(.mark)
            p.storage(("torch.storage", "UntypedStorage"), key: "0", count: 4, location: "cuda:0")
            p.int(0); p.intTuple([2]); p.intTuple([1]); p.op(.newFalse)
            p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
            p.global("torch", "uint16")
            p.op(.tuple)
            p.op(.reduce)
        }
        let u = try Unpickled(bytes)
        guard case .tensor(let t) = try u.value("u16") else { Issue.record("expected a tensor"); return }
        #expect(u.heap.tensors[t].dtype == .uint16)
        #expect(u.heap.storages[0] == PickleStorageReference(elementType: nil, key: "0", location: "cuda:0", elementCount: 4))
    }

    @Test func parametersSizesDevicesAndBytes() throws {
        let bytes = PickleBytes.stateDict { p in
            // Parameter through _rebuild_parameter and through NEWOBJ.
            p.string("p")
            p.global("torch._utils", "_rebuild_parameter")
            p.op(.mark)
            p.tensorV2(key: "0", count: 2, size: [2], stride: [1])
            p.op(.newTrue)
            p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
            p.op(.tuple)
            p.op(.reduce)
            p.string("new")
            p.global("torch.nn.parameter", "Parameter")
            p.op(.mark)
            p.tensorV2(key: "0", count: 2, size: [1], stride: [1])
            p.op(.newTrue)
            p.op(.tuple)
            p.op(.newObj)
            p.string("with state")
            p.global("torch._utils", "_rebuild_parameter_with_state")
            p.op(.mark)
            p.tensorV2(key: "0", count: 2, offset: 1, size: [1], stride: [1])
            p.op(.newTrue)
            p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
            p.op(.emptyDict); p.string("note"); p.string("kept"); p.op(.setItem)
            p.op(.tuple)
            p.op(.reduce)
            p.string("size")
            p.global("torch", "Size"); p.op(.mark); p.intTuple([2, 3]); p.op(.tuple); p.op(.reduce)
            p.string("device")
            p.global("torch", "device"); p.string("cuda"); p.int(1); p.op(.tuple2); p.op(.reduce)
            p.string("bytes")
            p.global("_codecs", "encode"); p.string("\u{00FF}A"); p.string("latin1"); p.op(.tuple2); p.op(.reduce)
        }
        let u = try Unpickled(bytes)
        #expect(try u.value("p") == .tensor(0))
        #expect(try u.value("new") == .tensor(1))
        #expect(try u.value("with state") == .tensor(2))
        #expect(u.heap.tensors[2].storageOffset == 1)
        #expect(u.heap.storages.count == 1)  // key "0" named three times, one storage
        #expect(u.items(try u.value("size")) == [.int(2), .int(3)])
        #expect(try u.value("device") == .device("cuda:1"))
        #expect(try u.value("bytes") == .bytes([0xFF, 0x41]))
    }

    @Test func buildSetsOrderedDictMetadata() throws {
        // torch ends a module's state_dict with BUILD {'_metadata': OrderedDict(...)}.
        var p = PickleBytes()
        p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
        p.op(.emptyDict)
        p.string("_metadata")
        p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
        p.op(.setItem)
        p.op(.build)
        p.op(.stop)
        let u = try Unpickled(p.bytes)
        #expect(u.result.root == .dict(0))
    }

    @Test func deepNestingCostsNoStack() throws {
        var p = PickleBytes()
        p.op(.emptyTuple)
        for _ in 0..<200_000 { p.op(.tuple1) }
        p.op(.stop)
        let u = try Unpickled(p.bytes)
        #expect(u.heap.sequences.count == 200_001)
    }

    @Test func integersOfEveryWidth() {
        #expect(PickleUnpickler.littleEndianInteger([]) == .int(0))
        #expect(PickleUnpickler.littleEndianInteger([0x80]) == .int(-128))
        #expect(PickleUnpickler.littleEndianInteger([0xFF, 0x00]) == .int(255))
        #expect(PickleUnpickler.littleEndianInteger(ArraySlice(Array(repeating: 0xFF, count: 12))) == .int(-1))
        #expect(PickleUnpickler.littleEndianInteger(ArraySlice(Array(repeating: 0xFF, count: 8) + [0x00])) == .largeInt)
        #expect(PickleUnpickler.littleEndianInteger(ArraySlice(Array(repeating: 0x00, count: 7) + [0x80])) == .int(Int(Int64.min)))
    }
}
