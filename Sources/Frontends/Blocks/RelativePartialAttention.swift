import ONNXExportIR

/// Transformer-XL's relative positional attention (transformers `RelPartialLearnableMultiHeadAttn`):
/// scores are a content term `(q + r_w_bias) · kᵀ` plus a position term `(q + r_r_bias) · rᵀ`,
/// where `r` projects sinusoids of the distance from each query to each key, memory included.
/// Everything here is computed in the graph from the lengths, so one export serves every
/// sequence and memory length.
extension GraphBuilder {
    /// `PositionalEmbedding(pos_seq)` for `pos_seq = [K−1, K−2, …, 0]` (`K` = `keyLength`, an
    /// int64 scalar), clamped to `clampLength` where given, as `[K, 2F]`:
    /// `cat(sin(pos ⊗ inv_freq), cos(pos ⊗ inv_freq))` with `inverseFrequencies` `[F]`.
    /// Distances are clamped as integers and then made float32, which equals torch's float clamp
    /// for every distance a runtime can hold.
    public func relativeSinusoids(keyLength: Value, inverseFrequencies: Value, clampLength: Int?) throws -> Value {
        try scope("pos_emb") {
            let one = int64s([1], scalar: true)
            let ascending = try node(.range, int64s([0], scalar: true), keyLength, one, name: "Range")
            var distances = try sub(try sub(keyLength, one), ascending, name: "Distances")
            if let clamp = clampLength {
                let limit = int64s([clamp], scalar: true)
                distances = try node(.where, try node(.greater, distances, limit), limit, distances, name: "ClampLength")
            }
            let angles = try mul(try unsqueeze(try cast(distances, to: .float32), [1]), try unsqueeze(inverseFrequencies, [0]), name: "Angles")
            return try node(.concat(axis: -1), try node(.sin, angles), try node(.cos, angles), name: "Sinusoids")
        }
    }

    /// transformers' `_rel_shift` on `[B, H, S, K]` position scores over the distances
    /// `K−1 … 0`: a zero column in front, the `[S, K+1]` rows read as `[K+1, S]`, the first row
    /// dropped and the rest read back as `[S, K]`. Query `i` then holds the score of its own
    /// distance to key `j`, `(K − S + i) − j`, wherever `j ≤ K − S + i`; the entries past that
    /// hold spill-over from the next row, which the causal mask hides, exactly as in
    /// transformers.
    public func zeroPadRelativeShift(_ x: Value) throws -> Value {
        try scope("rel_shift") {
            let shape = try node(.shape, x)
            let leading = try node(.gather(axis: 0), shape, int64s([0, 1, 2]), name: "LeadingAxes")
            let rows = try node(.gather(axis: 0), shape, int64s([2]), name: "Rows")
            let columns = try node(.gather(axis: 0), shape, int64s([3]), name: "Columns")
            let zeros = try node(.expand, scalar(0), try node(.concat(axis: 0), leading, int64s([1])), name: "ZeroColumn")
            let padded = try node(.concat(axis: 3), zeros, x, name: "Pad")
            let widened = try add(columns, int64s([1]), name: "PaddedColumns")
            let swapped = try node(.reshapeDynamic, padded,
                                   try node(.concat(axis: 0), try node(.gather(axis: 0), shape, int64s([0, 1])), widened, rows), name: "ReadAsColumns")
            let dropped = try node(.slice, swapped, int64s([1]), int64s([Int(Int64.max)]), int64s([2]), name: "DropFirstRow")
            return try node(.reshapeDynamic, dropped, shape, name: "ReadBack")
        }
    }

    /// Transformer-XL's attention mask `[S, K]` (true = hidden) for `S` new tokens after `M`
    /// memory positions (`K = M + S`, int64 scalars): query `i` never sees key `j > M + i`;
    /// with `sameLength` (`same_length`, given the config's `mem_len`) it also does not see keys
    /// `j ≤ i − shift`, `shift = S − max(K − mem_len, 0)`, so every query sees as many keys.
    public func segmentAttentionMask(queryLength: Value, memoryLength: Value, keyLength: Value, sameLength memLen: Int?) throws -> Value {
        try scope("dec_attn_mask") {
            let zero = int64s([0], scalar: true), one = int64s([1], scalar: true)
            let queries = try unsqueeze(try node(.range, zero, queryLength, one, name: "QueryIndex"), [1])
            let keys = try unsqueeze(try node(.range, zero, keyLength, one, name: "KeyIndex"), [0])
            let future = try node(.greater, keys, try add(queries, memoryLength), name: "Future")
            guard let memLen else { return future }
            let excess = try sub(keyLength, int64s([memLen], scalar: true), name: "MaskLength")
            let positiveExcess = try node(.where, try node(.greater, excess, zero), excess, zero, name: "PositiveMaskLength")
            let shift = try sub(queryLength, positiveExcess, name: "MaskShift")
            let far = try node(.not, try node(.greater, keys, try sub(queries, shift)), name: "TooFar")
            return try node(.or, future, far, name: "Hidden")
        }
    }

    /// The attention of `RelPartialLearnableMultiHeadAttn` on head-split `query` `[B, H, S, D]`,
    /// `key` and `value` `[B, H, K, D]` and `positionKeys` `[1, H, D, K]` (the projected
    /// sinusoids), with `contentBias` / `positionBias` (`r_w_bias`, `r_r_bias`) `[H, 1, D]` and
    /// `masked` `[S, K]` (true = hidden): the context `[B, H, S, D]`.
    ///
    /// The position term, shifted and scaled, and the mask enter as the additive mask of
    /// `headAttention`, whose scores are then `(AC + BD) · scale` as transformers' (summed in
    /// the other order: one rounding apart), softmax in float32 in reduced precision. Hidden
    /// entries get float32's lowest as transformers' `masked_fill`: a row hidden everywhere
    /// (`same_length` with `mem_len` 0) averages every value uniformly there and here.
    public func relativePartialAttention(query: Value, key: Value, value: Value, positionKeys: Value,
                                         contentBias: Value, positionBias: Value, masked: Value, scale: Float) throws -> Value {
        let positionScores = try matMul(try add(query, positionBias, name: "AddPositionBias"), positionKeys, name: "PositionScores")
        let shifted = try zeroPadRelativeShift(positionScores)
        let scaled = try mul(shifted, scalar(scale), name: "ScalePositionScores")
        let additive = try node(.where, masked, scalar(-Float.greatestFiniteMagnitude), scaled, name: "MaskedPositionScores")
        return try node(.headAttention(scale: scale), try add(query, contentBias, name: "AddContentBias"), key, value, additive)
    }
}
