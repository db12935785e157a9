import ONNXExportIR

/// A view of a `WeightStore` under a name prefix, so block code asks for `query.weight` and the
/// view resolves `bert.encoder.layer.0.attention.self.query.weight`.
public struct Weights {
    public let store: WeightStore
    public let prefix: String

    public init(_ store: WeightStore, prefix: String = "") { self.store = store; self.prefix = prefix }

    /// The view one level down: `w.scope("encoder.layer.0")`.
    public func scope(_ name: String) -> Weights {
        Weights(store, prefix: fullName(name))
    }

    public func fullName(_ name: String) -> String {
        if prefix.isEmpty { return name }
        if name.isEmpty { return prefix }
        return prefix + "." + name
    }

    public func has(_ name: String) -> Bool { store.contains(fullName(name)) }

    /// The tensor as float32 (half-precision checkpoints are widened while streaming), checked to
    /// have the expected rank when one is given.
    public func tensor(_ name: String, rank: Int? = nil) throws -> TensorData {
        let full = fullName(name)
        let stored = try store.require(full)
        guard stored.dtype.isFloatingPoint else {
            throw ExportError("\(store.origin): weight '\(full)' is \(stored.dtype), expected a floating-point tensor")
        }
        let t = try stored.asFloat32()
        if let rank, t.shape.count != rank {
            throw ExportError("\(store.origin): weight '\(full)' has shape \(t.shape), expected \(rank) dimensions")
        }
        return t
    }

    /// Checks that `name`, where the checkpoint has it, has the shape `config.json` implies (nil:
    /// any size on that axis). transformers refuses a checkpoint whose tensors disagree with its
    /// config, because it builds the model the config describes; exporting the weights' sizes
    /// under the config's would hand the user a model that no PyTorch run can be compared with.
    /// Missing tensors are left to the graph, which names the one it needs.
    public func requireShape(_ name: String, _ expected: [Int?], configFields: @autoclosure () -> String) throws {
        let full = fullName(name)
        guard store.contains(full) else { return }
        let actual = try store.require(full).shape
        let matches = actual.count == expected.count && zip(actual, expected).allSatisfy { a, e in e.map { $0 == a } ?? true }
        guard matches else {
            let wanted = "[" + expected.map { $0.map(String.init) ?? "_" }.joined(separator: ", ") + "]"
            throw ExportError("\(store.origin): weight '\(full)' has shape \(actual), but the config (\(configFields())) implies \(wanted)")
        }
    }

    /// The numbers `0..<count` of the sub-scopes that hold `probe`, up to the first that does not
    /// (the graph reports that one as missing): a config claiming 2⁴⁰ layers costs one lookup.
    public func numberedScopes(_ count: Int, holding probe: String) -> [Int] {
        var present: [Int] = []
        for i in 0..<count {
            guard has("\(i).\(probe)") else { break }
            present.append(i)
        }
        return present
    }

    /// Throws unless the sub-scopes `0..<count` all hold `probe`: a config's layer count against
    /// the checkpoint, checked before anything (cache inputs, per-layer tables) is sized by it.
    public func requireNumberedScopes(_ count: Int, holding probe: String, configField: String) throws {
        let present = numberedScopes(count, holding: probe).count
        guard present == count else {
            throw ExportError("\(store.origin): the config's \(configField) is \(count), but weight '\(fullName("\(present).\(probe)"))' "
                              + "is missing from the checkpoint (it has layers 0..<\(present))")
        }
    }

    /// The tensor as a graph constant named after its checkpoint name.
    public func value(_ name: String, rank: Int? = nil, in b: GraphBuilder) throws -> Value {
        b.weight(try tensor(name, rank: rank), name: fullName(name))
    }

    /// The first of `prefixes` under which `probe` exists (`"bert"` for task models, `""` for a
    /// bare base model), so one architecture reads both kinds of checkpoint.
    public func base(_ prefixes: [String], probe: String) -> Weights {
        for p in prefixes where store.contains(p.isEmpty ? probe : p + "." + probe) { return Weights(store, prefix: p) }
        return Weights(store, prefix: prefixes.first ?? "")
    }
}
