import ONNXExportIR

/// A restricted unpickler for checkpoint pickles: it builds a value tree and never executes code.
///
/// It runs the opcodes of protocols 0–5 that data needs (ints, floats, strings, bytes, tuples,
/// lists, dicts, sets, the memo, frames) and the few that make objects, only where the object is
/// one `PickleGlobal` allows: GLOBAL/STACK_GLOBAL of any other name fail at that opcode, before
/// anything else happens, and REDUCE, NEWOBJ and BUILD are interpreted here for the allowed
/// callables only. INST, OBJ, the extension registry, out-of-band buffers and the text strings of
/// protocol 0 (which `torch.save` cannot write) are refused, as is any unknown opcode byte.
///
/// Hostile input is bounded: every length is checked against the bytes left before anything is
/// read or allocated, and stack, marks, memo and objects built have limits.
///
/// ```swift
/// let result = try PickleUnpickler.unpickle(bytes, origin: "model.bin: record archive/data.pkl")
/// if case .dict(let i) = result.root { print(result.heap.dicts[i].entries.count) }
/// ```
struct PickleUnpickler {
    struct Limits {
        var maximumStackDepth = 1 << 20
        var maximumMarkDepth = 1 << 16
        var maximumMemoSize = 1 << 22
        /// Containers, storages and tensors built in all (a state_dict builds about four per tensor).
        var maximumObjects = 1 << 23
    }

    /// The persistent ids a storage may have: the zip format's `('storage', class, key, location,
    /// numel)`, or the legacy format's, which appends a `view_metadata` (None, or a view of the storage).
    enum StorageIDs { case zip, legacy }

    struct Result {
        var root: PickleValue
        var heap: PickleHeap
        /// The byte after STOP: where the next pickle of a stream starts.
        var end: Int
    }

    /// Runs the pickle in `bytes`; `origin` starts every error message (the file path first).
    static func unpickle(_ bytes: [UInt8], origin: String, limits: Limits = Limits(), storageIDs: StorageIDs = .zip) throws -> Result {
        var machine = PickleUnpickler(input: PickleInput(bytes, origin: origin), limits: limits, storageIDs: storageIDs)
        return try machine.result()
    }

    var input: PickleInput
    let limits: Limits
    let storageIDs: StorageIDs
    var stack: [PickleValue] = []
    /// Stack heights at each open MARK.
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var heap = PickleHeap()
    var storageOfKey: [String: Int] = [:]
    /// Legacy storage views by their own key (`view_metadata[0]`).
    var storageOfView: [String: Int] = [:]
    /// Bytes made by calls (`_codecs.encode`), bounded by the pickle's size so memoized strings
    /// encoded again and again cannot multiply memory.
    var madeBytes = 0

    init(input: PickleInput, limits: Limits, storageIDs: StorageIDs = .zip) {
        self.input = input
        self.limits = limits
        self.storageIDs = storageIDs
    }

    /// Runs the pickle to its STOP.
    mutating func result() throws -> Result {
        let root = try run()
        return Result(root: root, heap: heap, end: input.position)
    }

    mutating func run() throws -> PickleValue {
        while true {
            guard let byte = input.nextOpcode() else {
                throw input.error("the pickle ends without a STOP opcode; is it truncated?")
            }
            guard let opcode = PickleOpcode(rawValue: byte) else {
                input.opcodeName = "0x" + String(byte, radix: 16)
                let shown = byte >= 0x21 && byte < 0x7F ? " '\(Character(Unicode.Scalar(byte)))'" : ""
                throw input.error("unknown opcode 0x\(String(byte, radix: 16))\(shown); this is not a pickle of protocol 0-5, or it is damaged")
            }
            input.opcodeName = opcode.name
            if opcode == .stop { return try pop() }
            try execute(opcode)
        }
    }

    // MARK: stack

    mutating func push(_ value: PickleValue) throws {
        guard stack.count < limits.maximumStackDepth else {
            throw input.error("the stack grows past \(limits.maximumStackDepth) values; refusing a pickle this deep")
        }
        stack.append(value)
    }

    /// The top value, which must lie above the innermost MARK.
    mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw input.error("needs a value but the stack is empty") }
        return stack.removeLast()
    }

    func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw input.error("needs a value but the stack is empty")
        }
        return value
    }

    /// The values above the innermost MARK, which is removed.
    mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw input.error("needs a MARK but none is open") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func countObject() throws {
        let built = heap.sequences.count + heap.dicts.count + heap.storages.count + heap.tensors.count
        guard built < limits.maximumObjects else {
            throw input.error("the pickle builds more than \(limits.maximumObjects) objects; refusing it")
        }
    }

    // MARK: opcodes

    private mutating func execute(_ opcode: PickleOpcode) throws {
        switch opcode {
        case .proto:
            let version = try input.uint8("the protocol number")
            guard version <= 5 else { throw input.error("protocol \(version) is newer than 5, the highest this reader knows") }
        case .frame:
            let length = try input.count(8, "the frame length")
            guard length <= input.remaining else {
                input.noteRanOut()
                throw input.error("a frame of \(length) bytes is longer than the \(input.remaining) bytes left; is the pickle truncated?")
            }
        case .stop:
            break  // handled by `run`
        case .mark:
            guard marks.count < limits.maximumMarkDepth else {
                throw input.error("more than \(limits.maximumMarkDepth) MARKs are open; refusing a pickle nested this deep")
            }
            marks.append(stack.count)
        case .pop:
            if stack.count > (marks.last ?? 0) { stack.removeLast() } else { _ = try popMark() }
        case .popMark:
            _ = try popMark()
        case .dup:
            try push(try top())
        case .none, .newTrue, .newFalse, .int, .binInt, .binInt1, .binInt2, .long, .long1, .long4, .float, .binFloat:
            try push(try scalar(opcode))
        case .binUnicode, .shortBinUnicode, .binUnicode8, .binString, .shortBinString,
             .binBytes, .shortBinBytes, .binBytes8, .byteArray8:
            try push(try text(opcode))
        case .string, .unicode, .persistentID:
            throw input.error("protocol 0 text arguments are not supported; torch.save writes protocol 2 or later")
        case .emptyTuple, .tuple, .tuple1, .tuple2, .tuple3, .emptyList, .list, .append, .appends,
             .emptyDict, .dict, .setItem, .setItems, .emptySet, .addItems, .frozenSet:
            try container(opcode)
        case .put, .binPut, .longBinPut, .memoize, .get, .binGet, .longBinGet:
            try memoOperation(opcode)
        case .global:
            let module = try input.line("the GLOBAL module name")
            let name = try input.line("the GLOBAL name")
            try push(.global(try allowedGlobal(module: module, name: name)))
        case .stackGlobal:
            let name = try pop(), module = try pop()
            guard case .string(let moduleName) = module, case .string(let globalName) = name else {
                throw input.error("expects a module name and a global name (two str), found \(module.kindName) and \(name.kindName)")
            }
            try push(.global(try allowedGlobal(module: moduleName, name: globalName)))
        case .inst:
            let module = try input.line("the INST module name")
            let name = try input.line("the INST class name")
            throw input.error("INST would create an instance of \(module).\(name); old-style instance creation is never allowed. Nothing was executed")
        case .obj:
            throw input.error("OBJ would create an instance of a class from the stack; this is never allowed. Nothing was executed")
        case .ext1, .ext2, .ext4:
            throw input.error("globals from the copyreg extension registry are not allowed. Nothing was executed")
        case .nextBuffer, .readOnlyBuffer:
            throw input.error("out-of-band buffers (protocol 5) are not supported in a checkpoint")
        case .reduce:
            let arguments = try pop(), callable = try pop()
            try push(try call(callable, arguments: arguments))
        case .newObj:
            let arguments = try pop(), type = try pop()
            try push(try newObject(type, arguments: arguments, keywords: nil))
        case .newObjEx:
            let keywords = try pop(), arguments = try pop(), type = try pop()
            try push(try newObject(type, arguments: arguments, keywords: keywords))
        case .build:
            let state = try pop()
            try build(on: try top(), state: state)
        case .binPersistentID:
            try push(try persistentLoad(try pop()))
        }
    }
}
