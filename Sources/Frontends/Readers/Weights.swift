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
