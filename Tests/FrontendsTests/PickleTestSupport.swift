import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// Assembles pickle bytes opcode by opcode, so tests can write exactly what torch writes, and
/// exactly what an attacker would.
struct PickleBytes {
    var bytes: [UInt8] = []

    init(protocol version: UInt8? = 2) {
        if let version { bytes = [PickleOpcode.proto.rawValue, version] }
    }

    mutating func op(_ opcode: PickleOpcode, _ argument: [UInt8] = []) {
        bytes += [opcode.rawValue] + argument
    }

    mutating func global(_ module: String, _ name: String) {
        op(.global, Array("\(module)\n\(name)\n".utf8))
    }

    mutating func stackGlobal(_ module: String, _ name: String) {
        shortString(module)
        shortString(name)
        op(.stackGlobal)
    }

    mutating func string(_ text: String) {
        op(.binUnicode, Self.u32(text.utf8.count) + Array(text.utf8))
    }

    mutating func shortString(_ text: String) {
        op(.shortBinUnicode, [UInt8(text.utf8.count)] + Array(text.utf8))
    }

    mutating func int(_ value: Int) {
        switch value {
        case 0..<256: op(.binInt1, [UInt8(value)])
        case 256..<65_536: op(.binInt2, [UInt8(value & 0xFF), UInt8(value >> 8)])
        case Int(Int32.min)...Int(Int32.max): op(.binInt, Self.u32(Int(UInt32(bitPattern: Int32(value)))))
        default: op(.long1, [8] + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
        }
    }

    /// MARK, the ints, TUPLE.
    mutating func intTuple(_ values: [Int]) {
        op(.mark)
        values.forEach { int($0) }
        op(.tuple)
    }

    /// A legacy storage view: `view_metadata` `(key, offset, size)`.
    typealias StorageView = (key: String, offset: Int, size: Int)

    /// The persistent id torch writes for a storage, then BINPERSID; `legacy` appends the legacy
    /// format's `view_metadata` (None, or `view`).
    mutating func storage(_ storageClass: (String, String), key: String, count: Int, location: String = "cpu",
                          legacy: Bool = false, view: StorageView? = nil) {
        op(.mark)
        string("storage")
        global(storageClass.0, storageClass.1)
        string(key)
        string(location)
        int(count)
        if let view {
            string(view.key); int(view.offset); int(view.size); op(.tuple3)
        } else if legacy {
            op(.none)
        }
        op(.tuple)
        op(.binPersistentID)
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` as torch writes it.
    mutating func tensorV2(storageClass: String = "FloatStorage", key: String, count: Int,
                           offset: Int = 0, size: [Int], stride: [Int], legacy: Bool = false, view: StorageView? = nil) {
        global("torch._utils", "_rebuild_tensor_v2")
        op(.mark)
        storage(("torch", storageClass), key: key, count: count, legacy: legacy, view: view)
        int(offset)
        intTuple(size)
        intTuple(stride)
        op(.newFalse)
        global("collections", "OrderedDict")
        op(.emptyTuple)
        op(.reduce)
        op(.tuple)
        op(.reduce)
    }

    /// `{name: value, ...}` around `body`, which pushes keys and values; then STOP.
    static func stateDict(_ body: (inout PickleBytes) -> Void) -> [UInt8] {
        var p = PickleBytes()
        p.global("collections", "OrderedDict")
        p.op(.emptyTuple)
        p.op(.reduce)
        p.op(.mark)
        body(&p)
        p.op(.setItems)
        p.op(.stop)
        return p.bytes
    }

    static func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func u64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }
}

/// Runs a pickle and reads the result back.
struct Unpickled {
    let result: PickleUnpickler.Result

    init(_ bytes: [UInt8], limits: PickleUnpickler.Limits = .init()) throws {
        result = try PickleUnpickler.unpickle(bytes, origin: "test.pkl", limits: limits)
    }

    var heap: PickleHeap { result.heap }

    /// The root dict's value for `key`.
    func value(_ key: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PickleValue {
        guard case .dict(let index) = result.root else {
            Issue.record("root is \(result.root.kindName), expected a dict", sourceLocation: sourceLocation)
            throw ExportError("not a dict")
        }
        return try #require(heap.dicts[index].value(forString: key), sourceLocation: sourceLocation)
    }

    func items(_ value: PickleValue) -> [PickleValue]? { heap.items(of: value) }
}

/// Expects unpickling `bytes` to fail with a message that starts with `test.pkl, byte <n> (<OPCODE>)`
/// and mentions `fragments`.
@discardableResult
func expectPickleError(_ bytes: [UInt8], at position: Int? = nil, opcode: String? = nil, mentioning fragments: [String],
                       limits: PickleUnpickler.Limits = .init(), sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let error = #expect(throws: ExportError.self, sourceLocation: sourceLocation) {
        _ = try PickleUnpickler.unpickle(bytes, origin: "test.pkl", limits: limits)
    }
    guard let message = error?.message else { return nil }
    #expect(message.hasPrefix("test.pkl, byte "), "message should start with the origin: \(message)", sourceLocation: sourceLocation)
    if let position {
        #expect(message.hasPrefix("test.pkl, byte \(position) "), "message should name byte \(position): \(message)", sourceLocation: sourceLocation)
    }
    if let opcode {
        #expect(message.contains("(\(opcode))"), "message should name opcode \(opcode): \(message)", sourceLocation: sourceLocation)
    }
    for fragment in fragments {
        #expect(message.contains(fragment), "message should mention \(fragment): \(message)", sourceLocation: sourceLocation)
    }
    return message
}
