import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Pickles that must be refused: globals off the allow-list, calls the unpickler does not
/// interpret, opcodes it does not run, and inputs built to exhaust memory or the stack.
@Suite struct PickleHostileTests {
    static let forbidden: [(String, String)] = [
        ("os", "system"), ("posix", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "exec"),
        ("__builtin__", "eval"), ("subprocess", "Popen"), ("builtins", "getattr"), ("builtins", "__import__"),
        ("torch", "load"), ("torch.serialization", "load"), ("collections", "Counter"), ("numpy", "load"),
        ("numpy.core.multiarray", "scalar"), ("numpy", "matrix"), ("numpy.lib.npyio", "load"), ("torch.cuda", "synchronize"),
    ]

    @Test(arguments: forbidden)
    func globalOffTheAllowList(module: String, name: String) {
        // GLOBAL os system, then garbage: the error is the global's, raised at byte 2.
        var p = PickleBytes()
        p.global(module, name)
        p.bytes += [0xFF, 0xFE]
        expectPickleError(p.bytes, at: 2, opcode: "GLOBAL", mentioning: ["names \(module).\(name)", "not on the allow-list", "Nothing was executed"])
    }

    @Test(arguments: forbidden)
    func stackGlobalOffTheAllowList(module: String, name: String) {
        var p = PickleBytes(protocol: 4)
        p.stackGlobal(module, name)
        let position = p.bytes.count - 1
        p.string("touch /tmp/pwned")
        p.op(.tuple1)
        p.op(.reduce)
        p.op(.stop)
        expectPickleError(p.bytes, at: position, opcode: "STACK_GLOBAL", mentioning: ["names \(module).\(name)", "Nothing was executed"])
    }

    @Test func knownButUnsupportedTorchGlobals() {
        for (module, name, fragment) in [
            ("torch._tensor", "_rebuild_from_type_v2", "tensor subclasses"),
            ("torch._utils", "_rebuild_qtensor", "_rebuild_qtensor rebuilds a tensor kind"),
            ("torch", "ComplexFloatStorage", "torch.ComplexFloatStorage is an element type this reader does not support"),
            ("torch", "float8_e4m3fn", "torch.float8_e4m3fn is an element type"),
        ] {
            var p = PickleBytes()
            p.global(module, name)
            expectPickleError(p.bytes, at: 2, opcode: "GLOBAL", mentioning: ["names \(module).\(name)", fragment])
        }
    }

    /// NumPy arrays become placeholders (`PickleOpaqueGlobal`), which nothing can turn into a weight.
    @Test func numpyPlaceholdersCannotBecomeWeights() {
        // A placeholder where a tensor rebuild expects a storage.
        var p = PickleBytes()
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.op(.mark)
        p.global("numpy", "dtype"); p.string("f4"); p.op(.tuple1); p.op(.reduce)
        p.int(0); p.intTuple([1]); p.intTuple([1]); p.op(.newFalse)
        p.global("collections", "OrderedDict"); p.op(.emptyTuple); p.op(.reduce)
        p.op(.tuple)
        p.op(.reduce)
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["_rebuild_tensor_v2: storage is a numpy.dtype (not read)"])
        // _reconstruct of anything but numpy.ndarray; NEWOBJ of a NumPy class.
        var q = PickleBytes()
        q.global("numpy.core.multiarray", "_reconstruct"); q.global("numpy", "dtype"); q.op(.tuple1); q.op(.reduce)
        expectPickleError(q.bytes, opcode: "REDUCE", mentioning: ["expected numpy.ndarray as the class to rebuild"])
        var r = PickleBytes()
        r.global("numpy", "ndarray"); r.op(.emptyTuple); r.op(.newObj)
        expectPickleError(r.bytes, opcode: "NEWOBJ", mentioning: ["would create an instance of numpy.ndarray"])
    }

    @Test func stackGlobalOfNonStrings() {
        var p = PickleBytes()
        p.int(1); p.int(2)
        p.op(.stackGlobal)
        expectPickleError(p.bytes, opcode: "STACK_GLOBAL", mentioning: ["expects a module name and a global name", "an int"])
    }

    // MARK: calls

    @Test func reduceOnSomethingNotCallable() {
        var p = PickleBytes()
        p.string("os.system"); p.op(.emptyTuple); p.op(.reduce)
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["calls a str, which is not callable"])
    }

    @Test func reduceOnAnAllowedNameTorchNeverCalls() {
        var p = PickleBytes()
        p.global("torch", "float32"); p.op(.emptyTuple); p.op(.reduce)
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["torch.float32", "is not called by torch.save"])
        var q = PickleBytes()
        q.global("torch", "FloatStorage"); q.op(.emptyTuple); q.op(.reduce)
        expectPickleError(q.bytes, opcode: "REDUCE", mentioning: ["torch.FloatStorage", "is not called by torch.save"])
    }

    @Test func reduceWithArgumentsThatAreNotATuple() {
        var p = PickleBytes()
        p.global("collections", "OrderedDict"); p.op(.emptyList); p.op(.reduce)
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["with a list, expected an argument tuple"])
    }

    @Test func orderedDictWithArguments() {
        var p = PickleBytes()
        p.global("collections", "OrderedDict"); p.int(1); p.op(.tuple1); p.op(.reduce)
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["collections.OrderedDict: expected no arguments"])
    }

    @Test func newObjOfAClassThatMayNotBeCreated() {
        var p = PickleBytes()
        p.global("torch", "Size"); p.op(.emptyTuple); p.op(.newObj)
        expectPickleError(p.bytes, opcode: "NEWOBJ", mentioning: ["would create an instance of torch.Size"])
        var q = PickleBytes()
        q.global("collections", "OrderedDict"); q.op(.emptyTuple); q.op(.emptyDict); q.string("k"); q.int(1); q.op(.setItem); q.op(.newObjEx)
        expectPickleError(q.bytes, opcode: "NEWOBJ_EX", mentioning: ["passes keyword arguments to collections.OrderedDict"])
    }

    @Test func buildOnSomethingThatTakesNoState() {
        var p = PickleBytes()
        p.op(.emptyList); p.op(.emptyDict); p.op(.build)
        expectPickleError(p.bytes, opcode: "BUILD", mentioning: ["sets the state of a list"])
    }

    @Test func codecsEncodeCannotMultiplyMemory() {
        // One 1 KB string, memoized, encoded again and again: more bytes than the pickle holds.
        var p = PickleBytes()
        p.string(String(repeating: "x", count: 1_000))
        p.op(.binPut, [0])
        p.op(.pop)
        for _ in 0..<20 {
            p.global("_codecs", "encode"); p.op(.binGet, [0]); p.string("latin1"); p.op(.tuple2); p.op(.reduce); p.op(.pop)
        }
        expectPickleError(p.bytes, opcode: "REDUCE", mentioning: ["_codecs.encode: encodes more bytes in all than the pickle holds"])
    }

    @Test func malformedTensorRebuilds() {
        func rebuild(_ arguments: (inout PickleBytes) -> Void) -> [UInt8] {
            var p = PickleBytes()
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(.mark)
            arguments(&p)
            p.op(.tuple)
            p.op(.reduce)
            return p.bytes
        }
        let storage: (inout PickleBytes) -> Void = { $0.storage(("torch", "FloatStorage"), key: "0", count: 4) }
        expectPickleError(rebuild { storage(&$0) }, opcode: "REDUCE", mentioning: ["_rebuild_tensor_v2: expected (storage, storage_offset", "got 1 arguments"])
        expectPickleError(rebuild { p in
            p.int(0); p.int(0); p.intTuple([2]); p.intTuple([1]); p.op(.newFalse); p.op(.none)
        }, opcode: "REDUCE", mentioning: ["storage is an int, expected a storage"])
        expectPickleError(rebuild { p in
            storage(&p); p.int(-1); p.intTuple([2]); p.intTuple([1]); p.op(.newFalse); p.op(.none)
        }, opcode: "REDUCE", mentioning: ["storage_offset is (-1), expected a non-negative int"])
        expectPickleError(rebuild { p in
            storage(&p); p.int(0); p.string("2"); p.intTuple([1]); p.op(.newFalse); p.op(.none)
        }, opcode: "REDUCE", mentioning: ["size is ('2'), expected a tuple of non-negative ints"])
        expectPickleError(rebuild { p in
            storage(&p); p.int(0); p.intTuple([2, 2]); p.intTuple([1]); p.op(.newFalse); p.op(.none)
        }, opcode: "REDUCE", mentioning: ["size [2, 2] and stride [1] have different lengths"])
    }

    @Test func malformedPersistentIDs() {
        var p = PickleBytes()
        p.op(.mark); p.string("storage"); p.string("torch.FloatStorage"); p.string("0"); p.string("cpu"); p.int(1); p.op(.tuple)
        p.op(.binPersistentID)
        expectPickleError(p.bytes, opcode: "BINPERSID", mentioning: ["persistent id is ('storage', 'torch.FloatStorage', '0', 'cpu', 1)"])
        var q = PickleBytes()
        q.string("storage"); q.op(.binPersistentID)
        expectPickleError(q.bytes, opcode: "BINPERSID", mentioning: ["persistent id is ('storage')", "expected ('storage', storage class"])
        var r = PickleBytes()
        r.storage(("torch", "FloatStorage"), key: "0", count: 4)
        r.storage(("torch", "HalfStorage"), key: "0", count: 4)
        expectPickleError(r.bytes, opcode: "BINPERSID", mentioning: ["storage '0' is named again with a different type or size"])
    }

    // MARK: opcodes that are never run

    @Test func opcodesThatCreateArbitraryObjects() {
        var inst = PickleBytes()
        inst.op(.mark); inst.op(.inst, Array("os\nsystem\n".utf8))
        expectPickleError(inst.bytes, at: 3, opcode: "INST", mentioning: ["os.system", "never allowed", "Nothing was executed"])
        var obj = PickleBytes()
        obj.op(.mark); obj.global("collections", "OrderedDict"); obj.op(.obj)
        expectPickleError(obj.bytes, opcode: "OBJ", mentioning: ["never allowed"])
        var ext = PickleBytes()
        ext.op(.ext1, [1])
        expectPickleError(ext.bytes, opcode: "EXT1", mentioning: ["extension registry"])
        var buffer = PickleBytes(protocol: 5)
        buffer.op(.nextBuffer)
        expectPickleError(buffer.bytes, opcode: "NEXT_BUFFER", mentioning: ["out-of-band buffers"])
        var text = PickleBytes(protocol: nil)
        text.op(.string, Array("'os'\n".utf8))
        expectPickleError(text.bytes, at: 0, opcode: "STRING", mentioning: ["protocol 0 text arguments are not supported"])
        var persid = PickleBytes(protocol: nil)
        persid.op(.persistentID, Array("0\n".utf8))
        expectPickleError(persid.bytes, opcode: "PERSID", mentioning: ["protocol 0"])
    }

    @Test func unknownOpcodes() {
        expectPickleError([0x80, 0x02, 0xFF], at: 2, opcode: "0xff", mentioning: ["unknown opcode 0xff"])
        expectPickleError([0x80, 0x02, 0x7A], at: 2, mentioning: ["unknown opcode 0x7a 'z'"])
        expectPickleError([0x80, 0x06, 0x2E], at: 0, opcode: "PROTO", mentioning: ["protocol 6 is newer than 5"])
    }

    // MARK: truncation and limits

    @Test func truncatedPickles() {
        expectPickleError([0x80, 0x02, 0x4E], at: 3, mentioning: ["ends without a STOP opcode", "truncated"])
        expectPickleError([0x80, 0x02, 0x58] + PickleBytes.u32(1_000) + [0x41], opcode: "BINUNICODE",
                          mentioning: ["needs 1000 bytes but the pickle has 1 left"])
        expectPickleError([0x80, 0x04, 0x8D] + PickleBytes.u64(1 << 62), opcode: "BINUNICODE8",
                          mentioning: ["needs 4611686018427387904 bytes but the pickle has 0 left"])
        expectPickleError([0x80, 0x04, 0x8E] + Array(repeating: 0xFF, count: 8), opcode: "BINBYTES8", mentioning: ["is beyond 2^63"])
        expectPickleError([0x80, 0x02, 0x8B] + PickleBytes.u32(Int(UInt32.max)), opcode: "LONG4", mentioning: ["negative length -1"])
        expectPickleError([0x80, 0x04, 0x95] + PickleBytes.u64(100) + [0x4E, 0x2E], opcode: "FRAME",
                          mentioning: ["a frame of 100 bytes is longer than the 2 bytes left"])
        expectPickleError([0x80, 0x02, 0x63] + Array("os".utf8), opcode: "GLOBAL", mentioning: ["no terminating newline"])
        expectPickleError([0x80, 0x02, 0x58] + PickleBytes.u32(2) + [0xC3, 0x28, 0x2E], opcode: "BINUNICODE", mentioning: ["not valid UTF-8"])
    }

    @Test func stackAndMarkMisuse() {
        expectPickleError([0x80, 0x02, 0x2E], opcode: "STOP", mentioning: ["the stack is empty"])
        expectPickleError([0x80, 0x02, 0x4E, 0x28, 0x85], opcode: "TUPLE1", mentioning: ["the stack is empty"])
        expectPickleError([0x80, 0x02, 0x4E, 0x74], opcode: "TUPLE", mentioning: ["needs a MARK but none is open"])
        expectPickleError([0x80, 0x02, 0x7D, 0x28, 0x4E, 0x75], opcode: "SETITEMS", mentioning: ["1 values after its MARK", "pairs"])
        expectPickleError([0x80, 0x02, 0x7D, 0x4E, 0x61], opcode: "APPEND", mentioning: ["appends to a dict, expected a list"])
        expectPickleError([0x80, 0x02, 0x5D, 0x4E, 0x4E, 0x73], opcode: "SETITEM", mentioning: ["sets items on a list, expected a dict"])
        expectPickleError([0x80, 0x02, 0x68, 0x05], opcode: "BINGET", mentioning: ["memo entry 5, which was never stored"])
        expectPickleError([0x80, 0x02, 0x71, 0x00], opcode: "BINPUT", mentioning: ["the stack is empty"])
    }

    @Test func limitsOnStackMarksMemoAndObjects() {
        var limits = PickleUnpickler.Limits()
        limits.maximumStackDepth = 10
        expectPickleError([0x80, 0x02] + Array(repeating: 0x4E, count: 11), opcode: "NONE", mentioning: ["stack grows past 10"], limits: limits)

        limits = PickleUnpickler.Limits()
        limits.maximumMarkDepth = 10
        expectPickleError([0x80, 0x02] + Array(repeating: 0x28, count: 11), opcode: "MARK", mentioning: ["more than 10 MARKs"], limits: limits)

        limits = PickleUnpickler.Limits()
        limits.maximumMemoSize = 3
        var memo = PickleBytes()
        memo.op(.none)
        for i in 0..<4 { memo.op(.binPut, [UInt8(i)]) }
        expectPickleError(memo.bytes, opcode: "BINPUT", mentioning: ["memo grows past 3 entries"], limits: limits)

        limits = PickleUnpickler.Limits()
        limits.maximumObjects = 5
        expectPickleError([0x80, 0x02] + Array(repeating: 0x29, count: 6), opcode: "EMPTY_TUPLE",
                          mentioning: ["builds more than 5 objects"], limits: limits)
    }
}
