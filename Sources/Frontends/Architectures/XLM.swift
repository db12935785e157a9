import Foundation
import ONNXExportIR

/// XLM (transformers `modeling_xlm.py`, facebookresearch/XLM's models): word + absolute position
/// (+ language) embeddings, `token_type_ids` looked up in the word embeddings as transformers
/// does, post-LayerNorm layers whose modules sit in per-kind lists (`attentions.i`, `ffns.i`,
/// ...), hidden states zeroed at padding after the embeddings and after every layer, and a
/// causal variant whose mask is the lower triangle alone (padding is not masked there).
public struct XLM: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["xlm"], tasks: Task.encoderTasks) { try XLM($0, $1) }

    let vocabSize: Int
    let width: Int
    let layers: Int
    let shape: EncoderShape
    let maxPositions: Int
    let causal: Bool
    let sinusoidalPositions: Bool
    let languages: Int
    let usesLanguageEmbeddings: Bool
    let adaptiveSoftmax: Bool
    let tied: Bool
    let summary: SequenceSummary
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        // XLMConfig's own names, else their aliases (`hidden_size`, ... and the original `n_words`).
        func size(_ key: String, alias: String, default value: Int) throws -> Int {
            try c.has(key) || !c.has(alias) ? c.positiveInt(key, default: value) : c.positiveInt(alias)
        }
        vocabSize = try size("vocab_size", alias: "n_words", default: 30145)
        width = try size("emb_dim", alias: "hidden_size", default: 2048)
        layers = try size("n_layers", alias: "num_hidden_layers", default: 12)
        let heads = try size("n_heads", alias: "num_attention_heads", default: 16)
        guard width % heads == 0 else { throw ExportError("\(c.origin): emb_dim \(width) is not a multiple of n_heads \(heads)") }
        shape = EncoderShape(heads: heads, activation: try c.bool("gelu_activation", default: true) ? .gelu : .relu,
                             layerNormEpsilon: try c.double("layer_norm_eps", default: 1e-12))
        maxPositions = try c.positiveInt("max_position_embeddings", default: 512)
        causal = try c.bool("causal", default: false)
        sinusoidalPositions = try c.bool("sinusoidal_embeddings", default: false)
        languages = try c.positiveInt("n_langs", default: 1)
        usesLanguageEmbeddings = try c.bool("use_lang_emb", default: true)
        adaptiveSoftmax = try c.bool("asm", default: false)
        tied = try c.bool("tie_word_embeddings", default: true)
        summary = try SequenceSummary(c, defaultKind: .first)
        guard try c.bool("is_encoder", default: true) else {
            throw ExportError("\(c.origin): is_encoder is false; transformers' XLM runs only as an encoder")
        }
        root = Weights(store)
        w = root.base(["transformer", ""], probe: "embeddings.weight")
        try requireConfigShapes()
    }

    /// The largest sinusoidal table computed at export (elements): XLM's 512 × 2048 is a 60th of it.
    static let maximumComputedTable = 1 << 26

    private func requireConfigShapes() throws {
        try w.scope("attentions").requireNumberedScopes(layers, holding: "q_lin.weight", configField: "n_layers")
        if sinusoidalPositions, !w.has("position_embeddings.weight") {
            let elements = maxPositions.multipliedReportingOverflow(by: width)
            guard !elements.overflow, elements.partialValue <= Self.maximumComputedTable else {
                throw ExportError("\(w.store.origin): the sinusoidal position table to compute (max_position_embeddings \(maxPositions) × emb_dim \(width)) is larger than \(Self.maximumComputedTable) elements; the checkpoint has no position_embeddings.weight to use instead")
            }
        }
        try w.requireShape("embeddings.weight", [vocabSize, width], configFields: "vocab_size \(vocabSize), emb_dim \(width)")
        try w.requireShape("position_embeddings.weight", [maxPositions, width],
                           configFields: "max_position_embeddings \(maxPositions), emb_dim \(width)")
        if takesLanguageIDs {
            try w.requireShape("lang_embeddings.weight", [languages, width], configFields: "n_langs \(languages), emb_dim \(width)")
        }
        for i in 0..<layers {
            try EncoderLayerNames.xlm(layer: i).requireShapes(of: w, hidden: width, intermediate: 4 * width,
                                                                hiddenField: "emb_dim", intermediateField: "4 × emb_dim")
        }
    }

    public var takesTokenTypeIDs: Bool { true }
    public var takesLanguageIDs: Bool { languages > 1 && usesLanguageEmbeddings }
    public var hiddenSize: Int { width }

    func wordEmbeddings(_ b: GraphBuilder) throws -> Value { try w.value("embeddings.weight", rank: 2, in: b) }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let words = try wordEmbeddings(b)
        let keep = try b.scope("padding") { try b.unsqueeze(try b.cast(inputs.attentionMask, to: .float32), [-1]) }
        var h = try b.scope("embeddings") {
            var sum = try b.add(try b.embed(inputs.inputIDs, words),
                                try b.positionEmbedding(inputs.inputIDs, table: try positionTable(b), .absolute))
            if let langs = inputs.languageIDs {
                sum = try b.add(sum, try b.embed(langs, try w.value("lang_embeddings.weight", rank: 2, in: b), name: "LanguageEmbeddings"))
            }
            if let types = inputs.tokenTypeIDs { sum = try b.add(sum, try b.embed(types, words, name: "TokenTypeEmbeddings")) }
            let normed = try b.scope("layer_norm_emb") { try b.layerNorm(sum, w.scope("layer_norm_emb"), epsilon: shape.layerNormEpsilon) }
            return try b.mul(normed, keep, name: "ZeroPadding")
        }
        let mask = causal ? try causalMask(length: try b.scalarDimension(inputs.inputIDs, axis: 1), b)
                          : try b.additiveAttentionMask(inputs.attentionMask)
        for i in 0..<layers {
            h = try b.scope("transformer/layer.\(i)") {
                let out = try b.postNormEncoderLayer(h, w, names: .xlm(layer: i), shape: shape, mask: mask)
                return try b.mul(out, keep, name: "ZeroPadding")
            }
        }
        return h
    }

    /// The position table: the checkpoint's, else, for `sinusoidal_embeddings`, the fixed table
    /// transformers computes when it is missing.
    func positionTable(_ b: GraphBuilder) throws -> Value {
        let name = "position_embeddings.weight"
        if w.has(name) || !sinusoidalPositions { return try w.value(name, rank: 2, in: b) }
        return b.weight(Self.sinusoidalTable(positions: maxPositions, width: width), name: w.fullName(name))
    }

    /// `create_sinusoidal_embeddings`: `pos / 10000^(2⌊j/2⌋ / width)`, sine on even columns and
    /// cosine on odd ones, in float64 (numpy's) and stored as float32.
    static func sinusoidalTable(positions: Int, width: Int) -> TensorData {
        var values: [Float] = []
        values.reserveCapacity(positions * width)
        let rates = (0..<width).map { j in Foundation.pow(10000, Double(2 * (j / 2)) / Double(width)) }
        for position in 0..<positions {
            for (j, rate) in rates.enumerated() {
                let angle = Double(position) / rate
                values.append(Float(j % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle)))
            }
        }
        return .float32(values, shape: [positions, width])
    }

    /// `get_masks` with `causal`: key `j` is seen by query `i` when `j ≤ i`, whatever the padding
    /// (`[1, 1, S, S]`, additive).
    func causalMask(length: Value, _ b: GraphBuilder) throws -> Value {
        try b.scope("causal_mask") {
            let positions = try b.node(.range, b.int64s([0], scalar: true), length, b.int64s([1], scalar: true))
            let future = try b.node(.greater, try b.unsqueeze(positions, [0]), try b.unsqueeze(positions, [1]), name: "FutureKeys")
            let additive = try b.node(.where, future, b.scalar(-Float.greatestFiniteMagnitude), b.scalar(0), name: "AdditiveMask")
            return try b.unsqueeze(additive, [0, 1])
        }
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            guard !adaptiveSoftmax else {
                throw ExportError("\(w.store.origin): asm is true: the adaptive-softmax prediction layer (log-probabilities from AdaptiveLogSoftmaxWithLoss) is not supported; export feature-extraction or a checkpoint with asm false")
            }
            // XLMPredLayer: `proj`, a Linear whose weight is tied to the word embeddings.
            let proj = root.scope("pred_layer.proj")
            return try b.scope("pred_layer/proj") {
                let logits = tied || !proj.has("weight") ? try b.tiedProjection(hidden, table: try wordEmbeddings(b))
                                                         : try b.linear(hidden, proj, bias: false)
                return proj.has("bias") ? try b.add(logits, try proj.value("bias", rank: 1, in: b)) : logits
            }
        case .textClassification:
            return try b.scope("sequence_summary") { try b.sequenceSummary(hidden, summary, root.scope("sequence_summary")) }
        case .multipleChoice:
            let summarised = try b.scope("sequence_summary") { try b.sequenceSummary(hidden, summary, root.scope("sequence_summary")) }
            return try b.linearHead(summarised, root, named: "logits_proj")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
