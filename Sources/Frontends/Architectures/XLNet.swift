import Foundation
import ONNXExportIR

/// XLNet (transformers `modeling_xlnet.py`) as it runs at inference: the content stream alone
/// (no `perm_mask`, `target_mapping` or memory), bidirectional attention (`attn_type: bi`) with
/// Transformer-XL's relative positions — sinusoids of the distance computed in the graph for the
/// input's length, clamped to `clamp_len` — and its three biases (`r_w_bias` on content,
/// `r_r_bias` on positions, `r_s_bias` with `seg_embed` on whether two tokens share a segment),
/// post-LayerNorm blocks, and the padding convention: a padded key is hidden from every query
/// but its own position.
public struct XLNet: EncoderModel {
    public static let entry = ArchitectureEntry(
        modelTypes: ["xlnet"],
        tasks: [.featureExtraction, .textGeneration, .textClassification, .tokenClassification, .questionAnswering, .multipleChoice]
    ) { try XLNet($0, $1) }

    /// What transformers subtracts from a masked score (not the float32 minimum).
    static let maskedScore: Float = 1e30

    let modelDim, heads, headSize, layers, innerSize, vocabSize, clampLength: Int
    let epsilon: Double
    let activation: Activation
    let summary: SequenceSummary
    let tiedHead: Bool
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        modelDim = try c.positiveInt(c.has("d_model") ? "d_model" : "hidden_size", default: 1024)
        heads = try c.positiveInt(c.has("n_head") ? "n_head" : "num_attention_heads", default: 16)
        layers = try c.positiveInt(c.has("n_layer") ? "n_layer" : "num_hidden_layers", default: 24)
        innerSize = try c.positiveInt("d_inner", default: 4096)
        vocabSize = try c.positiveInt(c.has("vocab_size") ? "vocab_size" : "n_token", default: 32000)
        guard modelDim % heads == 0 else {
            throw ExportError("\(c.origin): d_model \(modelDim) is not a multiple of n_head \(heads)")
        }
        headSize = modelDim / heads
        if let written = try c.optionalInt("d_head"), written != headSize {
            throw ExportError("\(c.origin): d_head \(written) must be d_model / n_head = \(headSize), as transformers requires")
        }
        epsilon = try c.double("layer_norm_eps", default: 1e-12)
        activation = try Activation(configValue: try c.string("ff_activation", default: "gelu"), origin: c.origin, key: "ff_activation")
        clampLength = try c.int("clamp_len", default: -1)
        let attention = try c.string("attn_type", default: "bi")
        guard attention == "bi" else {
            throw ExportError("\(c.origin): attn_type \"\(attention)\" is not supported; XLNet's released checkpoints use \"bi\" (bidirectional)")
        }
        guard try !c.bool("bi_data", default: false) else {
            throw ExportError("\(c.origin): bi_data (pretraining's forward and backward halves of the batch) is not supported at inference")
        }
        summary = try SequenceSummary(c, defaultKind: .last, defaultActivation: "tanh")
        tiedHead = try c.bool("tie_word_embeddings", default: true)
        root = Weights(store)
        w = root.base(["transformer", ""], probe: "word_embedding.weight")
        let fields = "d_model \(modelDim), n_head \(heads), d_inner \(innerSize)"
        try w.requireShape("word_embedding.weight", [vocabSize, modelDim], configFields: "vocab_size \(vocabSize), d_model \(modelDim)")
        try w.scope("layer").requireNumberedScopes(layers, holding: "rel_attn.q", configField: "n_layer")
        for i in 0..<layers {
            let layer = w.scope("layer.\(i)")
            for p in ["q", "k", "v", "o", "r"] { try layer.requireShape("rel_attn.\(p)", [modelDim, heads, headSize], configFields: fields) }
            for p in ["r_w_bias", "r_r_bias", "r_s_bias"] { try layer.requireShape("rel_attn.\(p)", [heads, headSize], configFields: fields) }
            try layer.requireShape("rel_attn.seg_embed", [2, heads, headSize], configFields: fields)
            try layer.requireShape("ff.layer_1.weight", [innerSize, modelDim], configFields: fields)
            try layer.requireShape("ff.layer_2.weight", [modelDim, innerSize], configFields: fields)
        }
    }

    public var takesTokenTypeIDs: Bool { true }
    public var hiddenSize: Int { modelDim }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        var h = try b.embed(inputs.inputIDs, try w.value("word_embedding.weight", rank: 2, in: b), name: "word_embedding")
        let length = try b.scalarDimension(inputs.inputIDs, axis: 1)
        let (positions, distanceIndex) = try b.scope("relative_positions") { try relativePositions(length: length, b) }
        let (mask, otherSegment) = try b.scope("masks") { try masks(inputs, length: length, b) }
        for i in 0..<layers {
            h = try b.scope("layer.\(i)") {
                let attended = try b.scope("rel_attn") {
                    try relativeAttention(h, w.scope("layer.\(i).rel_attn"), positions: positions, distanceIndex: distanceIndex,
                                          mask: mask, otherSegment: otherSegment, b)
                }
                return try b.scope("ff") { try feedForward(attended, w.scope("layer.\(i).ff"), b) }
            }
        }
        return h
    }

    /// `relative_positional_encoding` for `attn_type: bi` without memory: the sinusoids of the
    /// distances `S, S−1, …, −S+1` (clamped to ±`clamp_len` when it is positive), `[2S, d_model]`,
    /// and, for `rel_shift`, the column of that table each (query i, key j) reads: `S − i + j`,
    /// the row whose distance is `i − j`.
    func relativePositions(length: Value, _ b: GraphBuilder) throws -> (Value, Value) {
        let zero = b.int64s([0], scalar: true), one = b.int64s([1], scalar: true)
        let rows = try b.node(.range, zero, try b.mul(length, b.int64s([2], scalar: true)), one, name: "Rows")
        var distance = try b.sub(length, rows, name: "Distance")
        if clampLength > 0 {
            let high = b.int64s([clampLength], scalar: true), low = b.int64s([-clampLength], scalar: true)
            distance = try b.node(.where, try b.node(.greater, distance, high), high,
                                  try b.node(.where, try b.node(.less, distance, low), low, distance), name: "ClampDistance")
        }
        // inv_freq = 1 / 10000^(2k / d_model) in float32, as torch computes it.
        let inverse = RotaryConfig.exponents(width: modelDim).map { 1 / powf(10000, $0) }
        let angles = try b.mul(try b.unsqueeze(try b.cast(distance, to: .float32), [1]), b.literal(.float32(inverse)), name: "Angles")
        let table = try b.node(.concat(axis: -1), try b.node(.sin, angles), try b.node(.cos, angles), name: "Sinusoids")
        let queries = try b.unsqueeze(try b.node(.range, zero, length, one, name: "Queries"), [1])
        let keys = try b.unsqueeze(try b.node(.range, zero, length, one, name: "Keys"), [0])
        let index = try b.add(try b.sub(length, queries), keys, name: "ShiftIndex")
        return (table, index)
    }

    /// The additive mask `[B, 1, S, S]` (−1e30 where query i may not see key j: j is padding and
    /// j ≠ i, transformers' `non_tgt_mask`) and whether two tokens lie in other segments
    /// (`[B, 1, S, S]` bool, `seg_mat`).
    func masks(_ inputs: EncoderInputs, length: Value, _ b: GraphBuilder) throws -> (Value, Value) {
        let zero = b.int64s([0], scalar: true), one = b.int64s([1], scalar: true)
        let padded = try b.unsqueeze(try b.node(.equal, inputs.attentionMask, zero), [1, 2])
        let positions = try b.node(.range, zero, length, one, name: "Positions")
        let offDiagonal = try b.node(.not, try b.node(.equal, try b.unsqueeze(positions, [1]), try b.unsqueeze(positions, [0])))
        let hidden = try b.node(.and, padded, try b.unsqueeze(offDiagonal, [0, 1]), name: "Hidden")
        let mask = try b.node(.where, hidden, b.scalar(-Self.maskedScore), b.scalar(0), name: "AdditiveMask")
        guard let types = inputs.tokenTypeIDs else { throw ExportError("XLNet needs token_type_ids") }
        let other = try b.node(.not, try b.node(.equal, try b.unsqueeze(types, [2]), try b.unsqueeze(types, [1])), name: "OtherSegment")
        return (mask, try b.unsqueeze(other, [1]))
    }

    /// `XLNetRelativeAttention` for the content stream: scores `(ac + bd + ef) · d_head^-0.5`
    /// minus 1e30 where masked, softmax, `· v`, the `o` projection, residual and LayerNorm.
    func relativeAttention(_ h: Value, _ w: Weights, positions: Value, distanceIndex: Value, mask: Value, otherSegment: Value,
                           _ b: GraphBuilder) throws -> Value {
        let inner = heads * headSize
        func projection(_ name: String) throws -> Value {
            b.weight(try w.tensor(name, rank: 3).reshaped([modelDim, inner]), name: w.fullName(name))
        }
        func bias(_ name: String) throws -> Value {
            b.weight(try w.tensor(name, rank: 2).reshaped([heads, 1, headSize]), name: w.fullName(name))
        }
        let query = try b.splitHeads(try b.matMul(h, try projection("q"), name: "Query"), heads: heads, headSize: headSize)
        let key = try b.splitHeads(try b.matMul(h, try projection("k"), name: "Key"), heads: heads, headSize: headSize)
        let value = try b.splitHeads(try b.matMul(h, try projection("v"), name: "Value"), heads: heads, headSize: headSize)
        // Position keys [1, heads, head_size, 2S], shared by the batch. (Rank 4 like the queries:
        // onnxruntime 1.32 crashed creating a session for the float16 graph at opsets below 17 when
        // this MatMul broadcast a rank-3 operand against a rank-4 one.)
        let positionKey = try b.unsqueeze(try b.transpose(try b.reshape(try b.matMul(positions, try projection("r"), name: "PositionKey"),
                                                                        [0, heads, headSize]), [1, 2, 0]), [0])
        let content = try b.matMul(try b.add(query, try bias("r_w_bias")), try b.transpose(key, [0, 1, 3, 2]), name: "ContentScores")
        let byPosition = try b.matMul(try b.add(query, try bias("r_r_bias")), positionKey, name: "PositionScores")
        let shifted = try b.node(.gatherElements(axis: 3), byPosition,
                                 try b.node(.expand, distanceIndex, try b.node(.shape, content)), name: "RelShift")
        // Segment scores: (q + r_s_bias) · seg_embed[same or other], [B, heads, S, 2] then picked per pair.
        let segments = try b.unsqueeze(try b.transpose(try w.value("seg_embed", rank: 3, in: b), [1, 2, 0], name: "SegmentKeys"), [0])  // [1, heads, head_size, 2]
        let perSegment = try b.matMul(try b.add(query, try bias("r_s_bias")), segments, name: "SegmentScores")
        let same = try b.columns(perSegment, 0, 1, name: "SameSegment"), other = try b.columns(perSegment, 1, 1, name: "OtherSegmentScore")
        let segment = try b.node(.where, otherSegment, other, same, name: "PickSegment")
        let scores = try b.mul(try b.add(try b.add(content, shifted), segment), b.scalar(1 / Float(headSize).squareRoot()), name: "Scale")
        let probabilities = try b.node(.softmax(axis: -1), try b.add(scores, mask, name: "Mask"))
        let context = try b.mergeHeads(try b.matMul(probabilities, value, name: "Context"))
        let output = try b.matMulTransposed(context, try projection("o"), name: "Output")
        return try b.layerNorm(try b.add(output, h, name: "Residual"), w.scope("layer_norm"), epsilon: epsilon)
    }

    /// `XLNetFeedForward`: layer_1, activation, layer_2, residual, LayerNorm.
    func feedForward(_ x: Value, _ w: Weights, _ b: GraphBuilder) throws -> Value {
        let inner = try b.activation(try b.scope("layer_1") { try b.linear(x, w.scope("layer_1")) }, activation)
        let output = try b.scope("layer_2") { try b.linear(inner, w.scope("layer_2")) }
        return try b.layerNorm(try b.add(output, x, name: "Residual"), w.scope("layer_norm"), epsilon: epsilon)
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .textGeneration:
            // `lm_loss`: tied to the word embedding unless the config unties it.
            return try b.scope("lm_loss") {
                let table = tiedHead || !root.has("lm_loss.weight")
                    ? try w.value("word_embedding.weight", rank: 2, in: b) : try root.value("lm_loss.weight", rank: 2, in: b)
                let logits = try b.tiedProjection(hidden, table: table)
                return try b.add(logits, try root.value("lm_loss.bias", rank: 1, in: b))
            }
        case .textClassification, .multipleChoice:
            let summarized = try b.scope("sequence_summary") { try b.sequenceSummary(hidden, summary, root.scope("sequence_summary")) }
            return try b.linearHead(summarized, root, named: "logits_proj")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
