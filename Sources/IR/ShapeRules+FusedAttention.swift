/// The shape rule of `Op.groupQueryAttention`, kept apart: it checks nine inputs.
extension ShapeRules {
    static func groupQueryAttention(_ inputs: [ValueInfo?], heads: Int, keyValueHeads: Int, rotary: Bool,
                                    _ fail: (String) -> ExportError) throws -> [Inferred] {
        func input(_ i: Int) -> ValueInfo? { i < inputs.count ? inputs[i] : nil }
        guard let q = input(0) else { throw fail("the query is required") }
        guard heads > 0, keyValueHeads > 0, heads % keyValueHeads == 0 else {
            throw fail("query heads \(heads) must be a positive multiple of key/value heads \(keyValueHeads)")
        }
        let dtype = q.type.dtype
        // Separate key and value, or none: then the query is the packed [q | k | v] projection.
        let keyValue = [input(1), input(2)].compactMap { $0 }
        let packed = keyValue.isEmpty
        let widthHeads = packed ? heads + 2 * keyValueHeads : heads
        guard keyValue.count == 2 || packed, ([q] + keyValue).allSatisfy({ $0.type.dtype == dtype && $0.type.rank == 3 }) else {
            throw fail("query, key and value must be [batch, sequence, heads·head_dim] of one type (or key and value omitted, packed in the query)")
        }
        guard let width = q.type.shape[2].fixedValue, width % widthHeads == 0 else {
            throw fail("query width \(q.type.shape[2]) must be a known multiple of \(widthHeads) heads")
        }
        let headSize = width / widthHeads
        for other in keyValue where !compatible(other.type.shape[2], .fixed(keyValueHeads * headSize)) {
            throw fail("key/value width \(other.type.shape[2]) must be \(keyValueHeads) heads of \(headSize)")
        }
        guard input(5)?.type.dtype == .int32, input(6)?.type.dtype == .int32 else {
            throw fail("the per-row last index and the total length must be int32")
        }
        var length = q.type.shape[1]
        switch (input(3), input(4)) {
        case let (pastKey?, pastValue?):
            let expected = TensorType(dtype, [q.type.shape[0], .fixed(keyValueHeads), pastKey.type.shape[2], .fixed(headSize)])
            for past in [pastKey, pastValue] where past.type.dtype != dtype || past.type.rank != 4
                || !zip(past.type.shape, expected.shape).allSatisfy({ compatible($0, $1) }) {
                throw fail("past \(past.type) must be \(expected)")
            }
            length = pastKey.type.shape[2] + length
        case (nil, nil): break
        default: throw fail("past key and past value come together")
        }
        if rotary {
            guard let cos = input(7), let sin = input(8), cos.type == sin.type, cos.type.dtype == dtype, cos.type.rank == 2,
                  compatible(cos.type.shape[1], .fixed(headSize / 2)) else {
                throw fail("rotary needs cos and sin tables [positions, \(headSize / 2)] of the query's type")
            }
        }
        let present = TensorType(dtype, [q.type.shape[0], .fixed(keyValueHeads), length, .fixed(headSize)])
        return [Inferred(TensorType(dtype, [q.type.shape[0], q.type.shape[1], .fixed(heads * headSize)])), Inferred(present), Inferred(present)]
    }
}
