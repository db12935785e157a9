import ONNXExportIR

/// How an embedding layer numbers positions.
public enum PositionIDs: Sendable {
    /// 0, 1, 2, ... (BERT, ELECTRA, DistilBERT): a prefix of the position table.
    case absolute
    /// RoBERTa's fairseq numbering: non-padding tokens count from `paddingIndex + 1`, padding
    /// tokens get `paddingIndex`, computed from `input_ids`.
    case paddingOffset(paddingIndex: Int)
}

extension GraphBuilder {
    /// `BertEmbeddings`: word + token type (+ position), then LayerNorm. Without a
    /// `token_type_ids` input, row 0 of the token-type table is added, as transformers does with
    /// its zero buffer; a model without that table adds nothing.
    public func bertEmbeddings(_ inputs: EncoderInputs, _ w: Weights, positions: PositionIDs, epsilon: Double,
                               wordTable: Value) throws -> Value {
        var sum = try scope("word_embeddings") { try embed(inputs.inputIDs, wordTable) }
        if w.has("token_type_embeddings.weight") {
            let table = try w.value("token_type_embeddings.weight", rank: 2, in: self)
            let typeEmbedding = try scope("token_type_embeddings") {
                try inputs.tokenTypeIDs.map { try embed($0, table) } ?? select(table, axis: 0, index: 0)
            }
            sum = try add(sum, typeEmbedding)
        }
        if w.has("position_embeddings.weight") {
            let table = try w.value("position_embeddings.weight", rank: 2, in: self)
            let positionEmbedding = try scope("position_embeddings") {
                try self.positionEmbedding(inputs.inputIDs, table: table, positions)
            }
            sum = try add(sum, positionEmbedding)
        }
        return try scope("LayerNorm") { try layerNorm(sum, w.scope("LayerNorm"), epsilon: epsilon) }
    }

    /// Position embeddings for `inputIDs` `[rows, seq]`.
    public func positionEmbedding(_ inputIDs: Value, table: Value, _ positions: PositionIDs) throws -> Value {
        switch positions {
        case .absolute:
            // rows [0, seq) of the table, broadcast over the batch
            return try prefix(table, axis: 0, length: try dimension(inputIDs, axis: 1))
        case .paddingOffset(let paddingIndex):
            let notPad = try node(.not, try node(.equal, inputIDs, int64s([paddingIndex], scalar: true)))
            let counts = try cast(notPad, to: .int64)
            let running = try node(.cumSum(axis: 1), counts)
            let ids = try add(try mul(running, counts), int64s([paddingIndex], scalar: true), name: "PositionIDs")
            return try embed(ids, table)
        }
    }
}
