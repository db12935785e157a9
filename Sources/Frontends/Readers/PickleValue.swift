import ONNXExportIR

/// A value the restricted unpickler builds: Python data, an allowed global, or a reference to a
/// storage or tensor record.
///
/// Containers are indices into a `PickleHeap` rather than nested values. Pickles mutate containers
/// after memoizing them (SETITEMS fills a dict that BINPUT already stored), which indices model
/// directly; and a flat enum cannot recurse, so a hostile pickle nesting a million tuples or a
/// list that contains itself costs no stack when values are copied, compared or freed.
enum PickleValue: Equatable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (LONG1/LONG4). Kept so that metadata holding one still loads;
    /// anything that needs its value refuses it.
    case largeInt
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    case set(Int)
    case global(PickleGlobal)
    case storage(Int)
    case tensor(Int)
    /// A `torch.device`, by its description (`cpu`, `cuda:0`).
    case device(String)
    /// An object that is neither data nor a weight, kept only as its class name (`numpy.ndarray`);
    /// see `PickleOpaqueGlobal`. Nothing of it was built or read.
    case opaque(String)

    /// What a message calls the value's kind.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int, .largeInt: return "an int"
        case .float: return "a float"
        case .string: return "a str"
        case .bytes: return "bytes"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case .set: return "a set"
        case .global(let global): return global.description
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        case .device: return "a torch.device"
        case .opaque(let type): return "a \(type) (not read)"
        }
    }
}

/// A `persistent_id` of a storage: `('storage', storage class, key, location, numel)`, plus in the
/// legacy format a `view_metadata`, which makes the reference a view of part of the storage.
struct PickleStorageReference: Equatable, Sendable {
    /// nil for `UntypedStorage`, whose `numel` counts bytes.
    var elementType: DataType?
    /// The record name under `<prefix>/data/` (zip), or the storage's key in the legacy key list.
    var key: String
    var location: String
    /// Elements of `elementType` (bytes for an untyped storage); for a view, the view's elements.
    var elementCount: Int
    /// For a legacy storage view, where it starts in storage `key`, in elements; nil otherwise.
    var viewOffset: Int? = nil
}

/// A tensor rebuilt by `_rebuild_tensor_v2/v3`: a view of a storage.
struct PickleTensorRecord: Equatable, Sendable {
    var storage: Int
    /// In elements of the tensor's type.
    var storageOffset: Int
    var size: [Int]
    var stride: [Int]
    /// The type `_rebuild_tensor_v3` names; nil for v2, where the storage class gives it.
    var dtype: DataType?
    /// The byte of the pickle whose REDUCE built it, for messages.
    var position: Int
}

/// The containers, storages and tensors a pickle built; `PickleValue`s refer to them by index.
struct PickleHeap: Sendable {
    /// Tuples, lists and sets.
    var sequences: [[PickleValue]] = []
    var dicts: [PickleDict] = []
    var storages: [PickleStorageReference] = []
    var tensors: [PickleTensorRecord] = []

    mutating func tuple(_ items: [PickleValue]) -> PickleValue {
        sequences.append(items)
        return .tuple(sequences.count - 1)
    }

    mutating func list(_ items: [PickleValue]) -> PickleValue {
        sequences.append(items)
        return .list(sequences.count - 1)
    }

    mutating func set(_ items: [PickleValue]) -> PickleValue {
        sequences.append(items)
        return .set(sequences.count - 1)
    }

    mutating func dict() -> PickleValue {
        dicts.append(PickleDict())
        return .dict(dicts.count - 1)
    }

    /// The items of a tuple or list (a `torch.Size` is a tuple here), or nil.
    func items(of value: PickleValue) -> [PickleValue]? {
        switch value {
        case .tuple(let i), .list(let i): return sequences[i]
        default: return nil
        }
    }
}

/// A dict in insertion order. Assigning an existing key replaces its value in place, as in
/// Python; string keys are indexed so filling a dict of 100,000 tensors stays linear. Keys compare
/// by their code points, as Python's do: Swift's `==` would make "é" and "e\u{301}" (canonically
/// equivalent) one key where a vocabulary has two.
struct PickleDict: Sendable {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var indexOfString: [[Unicode.Scalar]: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let name) = key {
            let scalars = Array(name.unicodeScalars)
            if let existing = indexOfString[scalars] {
                entries[existing].value = value
                return
            }
            indexOfString[scalars] = entries.count
        }
        entries.append((key, value))
    }

    func value(forString key: String) -> PickleValue? {
        indexOfString[Array(key.unicodeScalars)].map { entries[$0].value }
    }
}
