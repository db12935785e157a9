/// Unpickled plain data as the JSON Python's `json.dumps` writes for the same Python object:
/// dicts in insertion order with str, int, float, bool and None keys turned into strings, tuples
/// and lists as arrays, floats in Python's `repr` (`PythonJSON.floatLiteral`). What `json.dumps`
/// would refuse (bytes, sets, tensors, NumPy placeholders, tuple keys, a container inside itself)
/// is a `NotJSON` naming the first such value, so the caller can leave that entry out and say so.
extension PickleHeap {
    struct NotJSON: Error, Equatable {
        /// What the value is, e.g. "a tensor" or "a dict key that is a tuple".
        let reason: String
    }

    /// Nesting deeper than this is refused rather than recursed into (Python's own limit is ~1000).
    static let maximumJSONDepth = 200

    /// The containers being converted, by heap index: meeting one again is a cycle.
    private struct OpenContainers {
        var sequences: Set<Int> = []
        var dicts: Set<Int> = []
    }

    func json(_ value: PickleValue) throws -> OrderedJSON {
        var open = OpenContainers()
        return try json(value, depth: 0, open: &open)
    }

    private func json(_ value: PickleValue, depth: Int, open: inout OpenContainers) throws -> OrderedJSON {
        guard depth < Self.maximumJSONDepth else { throw NotJSON(reason: "nested more than \(Self.maximumJSONDepth) levels deep") }
        switch value {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let n): return .number(String(n))
        case .float(let x): return .number(PythonJSON.floatLiteral(x))
        case .string(let s): return .string(s)
        case .tuple(let i), .list(let i):
            guard open.sequences.insert(i).inserted else { throw NotJSON(reason: "a list that contains itself") }
            defer { open.sequences.remove(i) }
            return .array(try sequences[i].map { try json($0, depth: depth + 1, open: &open) })
        case .dict(let i):
            guard open.dicts.insert(i).inserted else { throw NotJSON(reason: "a dict that contains itself") }
            defer { open.dicts.remove(i) }
            // Two keys with one spelling (1 and "1") are both written, as Python writes them.
            return .object(try dicts[i].entries.map { .init(key: try jsonKey($0.key), value: try json($0.value, depth: depth + 1, open: &open)) })
        case .largeInt: return try fail("an int beyond 64 bits")
        case .bytes: return try fail("bytes")
        case .set: return try fail("a set")
        case .global(let g): return try fail(g.description)
        case .storage: return try fail("a storage")
        case .tensor: return try fail("a tensor")
        case .device: return try fail("a torch.device")
        case .opaque(let type): return try fail("a \(type)")
        }
    }

    /// How `json.dumps` spells a dict key: str as is, int and float as their text, bools and None
    /// as JSON literals; anything else (a tuple) raises TypeError in Python.
    private func jsonKey(_ key: PickleValue) throws -> String {
        switch key {
        case .string(let s): return s
        case .int(let n): return String(n)
        case .float(let x): return PythonJSON.floatLiteral(x)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        default: throw NotJSON(reason: "a dict key that is \(key.kindName)")
        }
    }

    private func fail(_ what: String) throws -> OrderedJSON { throw NotJSON(reason: what) }
}
