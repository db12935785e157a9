import Testing
@testable import ONNXExportFrontends

/// Unpickled values as `json.dumps` sees the Python objects they stand for.
@Suite struct PickleJSONTests {
    private func json(_ build: (inout PickleBytes) -> Void) throws -> Result<OrderedJSON, PickleHeap.NotJSON> {
        var p = PickleBytes()
        build(&p)
        p.op(.stop)
        let result = try PickleUnpickler.unpickle(p.bytes, origin: "test.pkl")
        do {
            return .success(try result.heap.json(result.root))
        } catch let error as PickleHeap.NotJSON {
            return .failure(error)
        }
    }

    @Test func plainData() throws {
        // {"t": (1, None), 3: 2.5, True: [], None: "x"}
        let got = try json { p in
            p.op(.emptyDict); p.op(.mark)
            p.string("t"); p.int(1); p.op(.none); p.op(.tuple2)
            p.int(3); p.op(.binFloat, [0x40, 0x04, 0, 0, 0, 0, 0, 0])
            p.op(.newTrue); p.op(.emptyList)
            p.op(.none); p.string("x")
            p.op(.setItems)
        }
        #expect(got == .success(.object([
            .init(key: "t", value: .array([.number("1"), .null])), .init(key: "3", value: .number("2.5")),
            .init(key: "true", value: .array([])), .init(key: "null", value: .string("x")),
        ])))
    }

    @Test func whatJSONCannotHold() throws {
        #expect(try json { p in p.op(.emptyDict); p.op(.mark); p.int(1); p.op(.tuple1); p.int(2); p.op(.setItems) }
                == .failure(.init(reason: "a dict key that is a tuple")))
        #expect(try json { p in p.op(.emptyList); p.op(.shortBinBytes, [1, 0x41]); p.op(.append) } == .failure(.init(reason: "bytes")))
        #expect(try json { p in p.op(.emptySet) } == .failure(.init(reason: "a set")))
        #expect(try json { p in p.global("numpy", "dtype"); p.string("f8"); p.op(.tuple1); p.op(.reduce) }
                == .failure(.init(reason: "a numpy.dtype")))
        // A list that contains itself: L = []; L.append(L)
        #expect(try json { p in p.op(.emptyList); p.op(.binPut, [0]); p.op(.binGet, [0]); p.op(.append) }
                == .failure(.init(reason: "a list that contains itself")))
        // The same list twice is no cycle: [[], []] sharing one list.
        #expect(try json { p in
            p.op(.emptyList); p.op(.emptyList); p.op(.binPut, [0]); p.op(.append); p.op(.binGet, [0]); p.op(.append)
        } == .success(.array([.array([]), .array([])])))
    }
}
