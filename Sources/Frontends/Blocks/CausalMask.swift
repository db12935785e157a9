import ONNXExportIR

extension GraphBuilder {
    /// Length of axis `axis` of `x` as an int64 scalar.
    public func scalarDimension(_ x: Value, axis: Int) throws -> Value {
        try node(.gather(axis: 0), try node(.shape, x), int64s([axis], scalar: true))
    }

    /// The additive mask `[B, 1, S, P+S]` a decoder adds to its attention scores: a query at
    /// absolute position `P + i` sees keys `j ≤ P + i` (and, with a sliding window `w`, only
    /// `j > P + i − w`) whose `attention_mask` is set; everything else gets the float32 minimum,
    /// as transformers' eager masks do. Built once per graph; `P` is the cached length.
    public func causalAttentionMask(attentionMask: Value, inputIDs: Value, slidingWindow: Int? = nil) throws -> Value {
        try scope("causal_mask") {
            let total = try scalarDimension(attentionMask, axis: 1)
            let length = try scalarDimension(inputIDs, axis: 1)
            let past = try sub(total, length, name: "PastLength")
            let one = int64s([1], scalar: true)
            let keys = try unsqueeze(try node(.range, int64s([0], scalar: true), total, one, name: "KeyPositions"), [0])
            let queries = try unsqueeze(try node(.range, past, total, one, name: "QueryPositions"), [1])
            var allowed = try node(.not, try node(.greater, keys, queries))
            if let window = slidingWindow {
                let earliest = try sub(queries, int64s([window], scalar: true))
                allowed = try node(.and, allowed, try node(.greater, keys, earliest), name: "SlidingWindow")
            }
            let padding = try unsqueeze(try cast(attentionMask, to: .bool), [1, 2])
            let visible = try node(.and, try unsqueeze(allowed, [0, 1]), padding)
            return try node(.where, visible, scalar(0), scalar(-Float.greatestFiniteMagnitude), name: "AdditiveMask")
        }
    }

    /// The additive causal mask `[1, 1, S, P+S]` of a decoder without padding input (an
    /// encoder-decoder's decoder): the query at `P + i` sees keys `j ≤ P + i`; `queries` are the
    /// absolute positions `[S]`, `keys` `[P+S]`.
    public func causalMask(queries: Value, keys: Value) throws -> Value {
        try scope("causal_mask") {
            let allowed = try node(.not, try node(.greater, try unsqueeze(keys, [0]), try unsqueeze(queries, [1])))
            let additive = try node(.where, allowed, scalar(0), scalar(-Float.greatestFiniteMagnitude), name: "AdditiveMask")
            return try unsqueeze(additive, [0, 1])
        }
    }
}
