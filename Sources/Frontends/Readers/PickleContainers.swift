import ONNXExportIR

/// The opcodes that build tuples, lists, sets and dicts, and the memo. Containers live in the
/// heap and are filled in place, so a memoized dict that SETITEMS fills later is the same dict.
extension PickleUnpickler {
    mutating func container(_ opcode: PickleOpcode) throws {
        switch opcode {
        case .emptyTuple, .tuple, .tuple1, .tuple2, .tuple3:
            let items: [PickleValue]
            switch opcode {
            case .emptyTuple: items = []
            case .tuple: items = try popMark()
            case .tuple1: items = [try pop()]
            case .tuple2: let b = try pop(), a = try pop(); items = [a, b]
            default: let c = try pop(), b = try pop(), a = try pop(); items = [a, b, c]
            }
            try countObject()
            try push(heap.tuple(items))
        case .emptyList, .list:
            let items = opcode == .list ? try popMark() : []
            try countObject()
            try push(heap.list(items))
        case .append, .appends:
            let items = opcode == .appends ? try popMark() : [try pop()]
            guard case .list(let index) = try top() else {
                throw input.error("appends to \(try top().kindName), expected a list")
            }
            heap.sequences[index].append(contentsOf: items)
        case .emptySet, .frozenSet:
            let items = opcode == .frozenSet ? try popMark() : []
            try countObject()
            try push(heap.set(items))
        case .addItems:
            let items = try popMark()
            guard case .set(let index) = try top() else {
                throw input.error("adds items to \(try top().kindName), expected a set")
            }
            heap.sequences[index].append(contentsOf: items)
        case .emptyDict, .dict:
            let items = opcode == .dict ? try popMark() : []
            try countObject()
            let dict = heap.dict()
            try fill(dict, with: items)
            try push(dict)
        case .setItem:
            let value = try pop(), key = try pop()
            try fill(try top(), with: [key, value])
        case .setItems:
            let items = try popMark()  // before `top`: the dict lies below the MARK
            try fill(try top(), with: items)
        default:
            throw input.error("is not a container opcode")
        }
    }

    /// Sets key/value pairs, given flat, on the dict `target`.
    mutating func fill(_ target: PickleValue, with items: [PickleValue]) throws {
        guard case .dict(let index) = target else {
            throw input.error("sets items on \(target.kindName), expected a dict")
        }
        guard items.count % 2 == 0 else {
            throw input.error("has \(items.count) values after its MARK; keys and values must come in pairs")
        }
        for pair in stride(from: 0, to: items.count, by: 2) {
            heap.dicts[index].set(items[pair], items[pair + 1])
        }
    }

    mutating func memoOperation(_ opcode: PickleOpcode) throws {
        let index: Int
        switch opcode {
        case .put, .get:
            let line = try input.line("the memo index")
            guard let value = Int(line), value >= 0 else { throw input.error("'\(line.prefix(40))' is not a memo index") }
            index = value
        case .binPut, .binGet: index = try input.count(1, "the memo index")
        case .longBinPut, .longBinGet: index = try input.count(4, "the memo index")
        default: index = memo.count  // MEMOIZE
        }
        switch opcode {
        case .get, .binGet, .longBinGet:
            guard let value = memo[index] else { throw input.error("reads memo entry \(index), which was never stored") }
            try push(value)
        default:
            let value = try top()
            if memo[index] == nil, memo.count >= limits.maximumMemoSize {
                throw input.error("the memo grows past \(limits.maximumMemoSize) entries; refusing the pickle")
            }
            memo[index] = value
        }
    }
}
