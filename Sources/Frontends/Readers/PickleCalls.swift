import ONNXExportIR

/// The opcodes that would import or call Python code (GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID),
/// interpreted for the allowed globals only: each call is a few lines of Swift that build a value
/// from checked arguments, never a call into anything else.
extension PickleUnpickler {
    /// The allowed global `module.name`, or an error naming it: raised at the opcode that names
    /// it, so nothing after it in the pickle is looked at.
    mutating func allowedGlobal(module: String, name: String) throws -> PickleGlobal {
        if let global = PickleGlobal.resolve(module: module, name: name) { return global }
        if let reason = PickleGlobal.unsupportedReason(module: module, name: name) {
            throw input.error("names \(module).\(name): \(reason)")
        }
        throw input.error("names \(module).\(name), which is not on the allow-list for weights (tensors, storages, dtypes,"
            + " OrderedDict); a checkpoint never needs it, so the file is refused. Nothing was executed")
    }

    /// REDUCE: `callable(*arguments)` for an allowed callable.
    mutating func call(_ callable: PickleValue, arguments: PickleValue) throws -> PickleValue {
        guard case .global(let global) = callable else {
            throw input.error("calls \(callable.kindName), which is not callable")
        }
        guard case .tuple(let index) = arguments else {
            throw input.error("calls \(global.description) with \(arguments.kindName), expected an argument tuple")
        }
        let args = heap.sequences[index]
        let here = input  // the position for messages; a copy, so `fail` does not capture self
        let fail = { (problem: String) in here.error("\(global.description): \(problem)") }
        switch global {
        case .orderedDict:
            guard args.isEmpty else { throw fail("expected no arguments (items follow with SETITEMS), got \(args.count)") }
            try countObject()
            return heap.dict()
        case .rebuildTensorV2, .rebuildTensorV3:
            return try rebuildTensor(args, v3: global == .rebuildTensorV3, fail: fail)
        case .rebuildParameter, .rebuildParameterWithState:
            // (data, requires_grad, backward_hooks[, state]): a Parameter is its data here.
            let count = global == .rebuildParameter ? 3 : 4
            guard args.count == count, case .tensor = args[0] else {
                throw fail("expected (tensor, requires_grad, backward_hooks\(count == 4 ? ", state" : "")), got \(describe(args))")
            }
            return args[0]
        case .parameter:
            return try parameter(args, fail: fail)
        case .size:
            guard args.count == 1, let dimensions = heap.items(of: args[0]), dimensions.allSatisfy({ if case .int = $0 { return true } else { return false } }) else {
                throw fail("expected one tuple of ints, got \(describe(args))")
            }
            try countObject()
            return heap.tuple(dimensions)
        case .device:
            guard (1...2).contains(args.count), case .string(let type) = args[0] else {
                throw fail("expected a device string such as 'cpu', got \(describe(args))")
            }
            if args.count == 2, case .int(let index) = args[1] { return .device("\(type):\(index)") }
            return .device(type)
        case .codecsEncode:
            return try encode(args, fail: fail)
        case .storageClass, .dtype:
            throw fail("is not called by torch.save; refusing the call")
        case .opaque(let opaque):
            return try opaqueCall(opaque, args, fail: fail)
        }
    }

    /// NEWOBJ / NEWOBJ_EX: `type.__new__(type, *arguments)`, for `Parameter` and `OrderedDict`.
    mutating func newObject(_ type: PickleValue, arguments: PickleValue, keywords: PickleValue?) throws -> PickleValue {
        guard case .global(let global) = type, global == .parameter || global == .orderedDict else {
            throw input.error("would create an instance of \(type.kindName); only torch.nn.parameter.Parameter and"
                + " collections.OrderedDict may be created. Nothing was executed")
        }
        if let keywords {
            guard case .dict(let index) = keywords, heap.dicts[index].entries.isEmpty else {
                throw input.error("passes keyword arguments to \(global.description); none are expected")
            }
        }
        return try call(type, arguments: arguments)
    }

    /// BUILD: sets an object's state. Only a dict (an OrderedDict's `_metadata`), a tensor or a
    /// placeholder (a NumPy array's shape, dtype and bytes) may take one, and the state is
    /// dropped: no weight depends on it.
    mutating func build(on target: PickleValue, state: PickleValue) throws {
        switch target {
        case .dict, .tensor, .opaque: return
        default: throw input.error("sets the state of \(target.kindName); only an OrderedDict, a tensor or a NumPy placeholder may take state")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
    /// and v3, which adds `dtype` after `backward_hooks`.
    private mutating func rebuildTensor(_ args: [PickleValue], v3: Bool, fail: (String) -> ExportError) throws -> PickleValue {
        let signature = "(storage, storage_offset, size, stride, requires_grad, backward_hooks\(v3 ? ", dtype" : "")[, metadata])"
        let required = v3 ? 7 : 6
        guard args.count == required || args.count == required + 1 else {
            throw fail("expected \(signature), got \(args.count) arguments")
        }
        guard case .storage(let storage) = args[0] else {
            throw fail("storage is \(args[0].kindName), expected a storage from a persistent id")
        }
        guard case .int(let offset) = args[1], offset >= 0 else {
            throw fail("storage_offset is \(describe([args[1]])), expected a non-negative int")
        }
        guard let size = naturals(args[2]) else { throw fail("size is \(describe([args[2]])), expected a tuple of non-negative ints") }
        guard let stride = naturals(args[3]) else { throw fail("stride is \(describe([args[3]])), expected a tuple of non-negative ints") }
        guard size.count == stride.count else {
            throw fail("size \(size) and stride \(stride) have different lengths")
        }
        var dtype: DataType?
        if v3 {
            guard case .global(.dtype(let type)) = args[6] else {
                throw fail("dtype is \(args[6].kindName), expected a torch dtype such as torch.float32")
            }
            dtype = type
        }
        try countObject()
        heap.tensors.append(PickleTensorRecord(storage: storage, storageOffset: offset, size: size, stride: stride,
                                               dtype: dtype, position: input.opcodeStart))
        return .tensor(heap.tensors.count - 1)
    }

    /// `Parameter(data[, requires_grad])`: the parameter is its data.
    private func parameter(_ args: [PickleValue], fail: (String) -> ExportError) throws -> PickleValue {
        guard (1...2).contains(args.count), case .tensor = args[0] else {
            throw fail("expected (tensor[, requires_grad]), got \(describe(args))")
        }
        return args[0]
    }

    /// `_codecs.encode(text, 'latin1')`: how protocol 2 pickles `bytes`.
    private mutating func encode(_ args: [PickleValue], fail: (String) -> ExportError) throws -> PickleValue {
        guard args.count == 2, case .string(let text) = args[0], case .string(let encoding) = args[1] else {
            throw fail("expected (str, encoding), got \(describe(args))")
        }
        var bytes: [UInt8] = []
        switch encoding.lowercased() {
        case "latin1", "latin-1", "iso-8859-1":
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw fail("'\(encoding)' cannot encode U+\(String(scalar.value, radix: 16))") }
                bytes.append(UInt8(scalar.value))
            }
        case "utf-8", "utf8":
            bytes = Array(text.utf8)
        default:
            throw fail("encoding '\(encoding)' is not supported (expected latin1)")
        }
        madeBytes += bytes.count
        guard madeBytes <= input.bytes.count else {
            throw fail("encodes more bytes in all than the pickle holds; refusing it")
        }
        return .bytes(bytes)
    }

    /// The ints of a tuple or list if all are non-negative.
    private func naturals(_ value: PickleValue) -> [Int]? {
        guard let items = heap.items(of: value) else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .int(let n) = item, n >= 0 else { return nil }
            result.append(n)
        }
        return result
    }

    /// A short rendering of values for messages: `(storage, 0, (2, 3), ...)`.
    func describe(_ values: [PickleValue]) -> String {
        "(" + values.prefix(8).map { value -> String in
            switch value {
            case .int(let n): return String(n)
            case .bool(let b): return b ? "True" : "False"
            case .float(let x): return String(x)
            case .string(let s): return "'" + s.prefix(40) + (s.count > 40 ? "...'" : "'")
            case .tuple, .list:
                let items = heap.items(of: value) ?? []
                let ints = items.prefix(8).map { if case .int(let n) = $0 { return String(n) } else { return $0.kindName } }
                return "(" + ints.joined(separator: ", ") + (items.count > 8 ? ", ..." : "") + ")"
            default: return value.kindName
            }
        }.joined(separator: ", ") + (values.count > 8 ? ", ..." : "") + ")"
    }
}
