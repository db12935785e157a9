/// Shorthands for the ops frontends use most, so architecture files read like the model code.
extension GraphBuilder {
    public func add(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.add, a, b, name: name) }
    public func sub(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.sub, a, b, name: name) }
    public func mul(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.mul, a, b, name: name) }
    public func div(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.div, a, b, name: name) }
    public func matMul(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.matMul, a, b, name: name) }
    public func matMulTransposed(_ a: Value, _ b: Value, name: String? = nil) throws -> Value { try node(.matMulTransposed, a, b, name: name) }
    public func cast(_ x: Value, to: DataType, name: String? = nil) throws -> Value { try node(.cast(to), x, name: name) }
    public func reshape(_ x: Value, _ shape: [Int], name: String? = nil) throws -> Value { try node(.reshape(shape), x, name: name) }
    public func transpose(_ x: Value, _ perm: [Int], name: String? = nil) throws -> Value { try node(.transpose(perm), x, name: name) }
    public func unsqueeze(_ x: Value, _ axes: [Int], name: String? = nil) throws -> Value { try node(.unsqueeze(axes), x, name: name) }
    public func squeeze(_ x: Value, _ axes: [Int], name: String? = nil) throws -> Value { try node(.squeeze(axes), x, name: name) }

    /// `table[indices]` along axis 0: an embedding lookup.
    public func embed(_ indices: Value, _ table: Value, name: String? = nil) throws -> Value {
        try node(.gather(axis: 0), table, indices, name: name ?? "Gather")
    }

    /// `x[..., index, ...]` at `axis`, dropping that axis (e.g. the first token: axis 1, index 0).
    public func select(_ x: Value, axis: Int, index: Int, name: String? = nil) throws -> Value {
        try node(.gather(axis: axis), x, int64s([index], scalar: true), name: name)
    }

    /// Size of axis `axis` of `x` as a 1-element int64 tensor (symbolic while building).
    public func dimension(_ x: Value, axis: Int) throws -> Value {
        let shape = try node(.shape, x)
        return try node(.gather(axis: 0), shape, int64s([axis]))
    }

    /// Rows `[0, length)` of `x` along `axis`, `length` a 1-element int64 tensor.
    public func prefix(_ x: Value, axis: Int, length: Value, name: String? = nil) throws -> Value {
        try node(.slice, x, int64s([0]), length, int64s([axis]), name: name)
    }
}
