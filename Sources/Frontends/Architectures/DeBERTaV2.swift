import Foundation
import ONNXExportIR

/// DeBERTa-v2 and v3 (transformers `modeling_deberta_v2.py`): embeddings of width
/// `embedding_size` (absolute positions only with `position_biased_input`, token types only
/// when `type_vocab_size` > 0, `embed_proj` to the hidden width), zeroed at padding; post-LayerNorm
/// layers with disentangled attention whose relative positions (log buckets with
/// `position_buckets`) are looked up for the input's length; the optional convolution after the
/// first layer; transformers' mask hides padded keys and padded queries alike (a padded query's
/// row, all masked, attends uniformly).
public struct DeBERTaV2: EncoderModel {
    public static let entry = ArchitectureEntry(modelTypes: ["deberta-v2"], tasks: Task.encoderTasks) { try DeBERTaV2($0, $1) }

    let config: BertFamilyConfig
    let embeddingSize: Int
    let positionBiasedInput: Bool
    let attention: DisentangledAttentionShape
    /// Relative attention's span and index table (nil without `relative_attention`).
    let relative: (span: Int, table: RelativePositionTable)?
    let normalisesRelativeEmbeddings: Bool
    let convolution: (kernel: Int, groups: Int, activation: Activation)?
    let pooler: (width: Int, activation: Activation)
    let legacyMaskedLMHead: Bool
    let w: Weights
    let root: Weights

    init(_ c: ConfigReader, _ store: WeightStore) throws {
        config = try BertFamilyConfig(c, defaults: .debertaV2)
        embeddingSize = try c.positiveInt("embedding_size", default: config.hiddenSize)
        positionBiasedInput = try c.bool("position_biased_input", default: true)
        let headSize = try c.positiveInt("attention_head_size", default: config.hiddenSize / config.heads)
        guard try c.product([headSize, config.heads], of: "attention_head_size × num_attention_heads") == config.hiddenSize else {
            throw ExportError("\(c.origin): attention_head_size \(headSize) × num_attention_heads \(config.heads) must equal hidden_size \(config.hiddenSize) (transformers' attention output projection is hidden × hidden)")
        }
        let kinds = try Self.listSetting(c, "pos_att_type")
        attention = DisentangledAttentionShape(heads: config.heads, headSize: headSize, contentToPosition: kinds.contains("c2p"),
                                               positionToContent: kinds.contains("p2c"), sharesKeys: try c.bool("share_att_key", default: false))
        if try c.bool("relative_attention", default: false) {
            let buckets = try c.int("position_buckets", default: -1)
            let declared = try c.int("max_relative_positions", default: -1)
            let maxRelative = declared < 1 ? config.maxPositions : declared
            let span = buckets > 0 ? buckets : maxRelative
            relative = (span, try .deberta(bucketSize: buckets, maxPosition: maxRelative, span: span, origin: c.origin))
        } else {
            relative = nil
        }
        normalisesRelativeEmbeddings = try Self.listSetting(c, "norm_rel_ebd").contains("layer_norm")
        let kernel = try c.int("conv_kernel_size", default: 0)
        if kernel > 0 {
            guard kernel % 2 == 1 else {
                throw ExportError("\(c.origin): conv_kernel_size \(kernel) must be odd: with padding (k − 1) / 2 an even kernel shortens the sequence, which transformers' residual cannot add")
            }
            let groups = try c.positiveInt("conv_groups", default: 1)
            convolution = (kernel, groups, try Activation(configValue: try c.string("conv_act", default: "tanh"), origin: c.origin, key: "conv_act"))
        } else {
            convolution = nil
        }
        pooler = (try c.positiveInt("pooler_hidden_size", default: config.hiddenSize),
                  try Activation(configValue: try c.string("pooler_hidden_act", default: "gelu"), origin: c.origin, key: "pooler_hidden_act"))
        legacyMaskedLMHead = try c.bool("legacy", default: true)
        root = Weights(store)
        w = root.base(["deberta", ""], probe: "embeddings.word_embeddings.weight")
        try requireConfigShapes()
    }

    /// `pos_att_type` and `norm_rel_ebd`: a list, or one string of `|`-separated names, lowercased.
    static func listSetting(_ c: ConfigReader, _ key: String) throws -> [String] {
        let items = c.fields[key] is String ? try c.string(key).components(separatedBy: "|") : try c.optionalStrings(key) ?? []
        return items.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    private func requireConfigShapes() throws {
        let c = config, e = embeddingSize
        try w.requireShape("embeddings.word_embeddings.weight", [c.vocabSize, e], configFields: "vocab_size \(c.vocabSize), embedding_size \(e)")
        if positionBiasedInput {
            try w.requireShape("embeddings.position_embeddings.weight", [c.maxPositions, e],
                               configFields: "max_position_embeddings \(c.maxPositions), embedding_size \(e)")
        }
        if c.typeVocabSize > 0 {
            try w.requireShape("embeddings.token_type_embeddings.weight", [c.typeVocabSize, e],
                               configFields: "type_vocab_size \(c.typeVocabSize), embedding_size \(e)")
        }
        if let relative {
            try w.requireShape("encoder.rel_embeddings.weight", [2 * relative.span, c.hiddenSize],
                               configFields: "position_buckets / max_relative_positions (2 × \(relative.span) rows), hidden_size \(c.hiddenSize)")
        }
        try EncoderLayerNames.debertaV2.requireShapes(w.scope("encoder.layer"), count: c.layers, hidden: c.hiddenSize,
                                                      intermediate: c.intermediateSize, hiddenField: "hidden_size",
                                                      intermediateField: "intermediate_size")
    }

    public var takesTokenTypeIDs: Bool { config.typeVocabSize > 0 }
    public var hiddenSize: Int { config.hiddenSize }

    func wordEmbeddings(_ b: GraphBuilder) throws -> Value { try w.value("embeddings.word_embeddings.weight", rank: 2, in: b) }

    public func encode(_ inputs: EncoderInputs, _ b: GraphBuilder) throws -> Value {
        let keep = try b.scope("padding") { try b.unsqueeze(try b.cast(inputs.attentionMask, to: .float32), [-1]) }
        let embedded = try b.scope("embeddings") { try embeddings(inputs, keep: keep, b) }
        let mask = try b.additiveAttentionMask(inputs.attentionMask)
        let tokens = try b.scope("attention_mask") { try b.unsqueeze(try b.cast(inputs.attentionMask, to: .bool), [2]) }
        let positions = try relativePositions(inputs.inputIDs, b)
        var h = embedded
        for i in 0..<config.layers {
            let layer = w.scope("encoder.layer.\(i)")
            h = try b.scope("encoder/layer.\(i)") {
                let context = try b.scope("attention/self") {
                    try b.disentangledSelfAttention(h, layer.scope("attention.self"), shape: attention, positions: positions,
                                                    mask: mask, tokens: tokens)
                }
                return try b.postNormSublayers(h, context: context, layer, names: .debertaV2, shape: config.encoderShape)
            }
            if i == 0, let convolution {
                h = try b.scope("encoder/conv") { try convolutionLayer(embedded, residual: h, keep: keep, convolution, b) }
            }
        }
        return h
    }

    /// `DebertaV2Embeddings`: words (+ positions) (+ token types) → `embed_proj` → LayerNorm →
    /// zeroed at padding. Checkpoints may hold position embeddings that `position_biased_input`
    /// false leaves unused (transformers ignores them), so the config decides, not the file.
    func embeddings(_ inputs: EncoderInputs, keep: Value, _ b: GraphBuilder) throws -> Value {
        let e = w.scope("embeddings")
        var sum = try b.embed(inputs.inputIDs, try wordEmbeddings(b), name: "WordEmbeddings")
        if positionBiasedInput {
            let table = try e.value("position_embeddings.weight", rank: 2, in: b)
            sum = try b.add(sum, try b.positionEmbedding(inputs.inputIDs, table: table, .absolute))
        }
        if config.typeVocabSize > 0, let types = inputs.tokenTypeIDs {
            sum = try b.add(sum, try b.embed(types, try e.value("token_type_embeddings.weight", rank: 2, in: b), name: "TokenTypeEmbeddings"))
        }
        if embeddingSize != config.hiddenSize {
            sum = try b.scope("embed_proj") { try b.linear(sum, e.scope("embed_proj"), bias: false) }
        }
        let normed = try b.scope("LayerNorm") { try b.layerNorm(sum, e.scope("LayerNorm"), epsilon: config.layerNormEpsilon) }
        return try b.mul(normed, keep, name: "ZeroPadding")
    }

    /// The relative embeddings (LayerNorm'd with `norm_rel_ebd`) and the indices looked up for
    /// this input's length, expanded to `[B, heads, S, S]` once for every layer's gathers.
    func relativePositions(_ inputIDs: Value, _ b: GraphBuilder) throws -> DisentangledPositions? {
        guard let relative else { return nil }
        return try b.scope("encoder/relative_positions") {
            var embeddings = try w.value("encoder.rel_embeddings.weight", rank: 2, in: b)
            if normalisesRelativeEmbeddings {
                embeddings = try b.scope("LayerNorm") { try b.layerNorm(embeddings, w.scope("encoder.LayerNorm"), epsilon: config.layerNormEpsilon) }
            }
            let length = try b.dimension(inputIDs, axis: 1)
            let shape = try b.node(.concat(axis: 0), try b.dimension(inputIDs, axis: 0), b.int64s([config.heads]), length, length,
                                   name: "IndexShape")
            let index = try b.relativePositionLookup(relative.table, length: try b.squeeze(length, [0]), queryMinusKey: true,
                                                     name: "content_to_position")
            func expanded(_ i: Value, _ name: String) throws -> Value { try b.node(.expand, try b.unsqueeze(i, [0, 1]), shape, name: name) }
            return DisentangledPositions(
                embeddings: embeddings,
                contentToPosition: attention.contentToPosition ? try expanded(index, "ContentToPositionIndex") : nil,
                // −bucket(i − j) + span = bucket(j − i) + span: the content-to-position index transposed.
                positionToContent: attention.positionToContent ? try expanded(try b.transpose(index, [1, 0]), "PositionToContentIndex") : nil)
        }
    }

    /// `ConvLayer` after the first layer: convolve the embedding output, zero it at padding,
    /// activate, add the layer's output, LayerNorm, zero at padding again.
    func convolutionLayer(_ embedded: Value, residual: Value, keep: Value,
                          _ conv: (kernel: Int, groups: Int, activation: Activation), _ b: GraphBuilder) throws -> Value {
        let c = w.scope("encoder.conv")
        let weight = try c.value("conv.weight", rank: 3, in: b)
        let bias = c.has("conv.bias") ? try c.value("conv.bias", rank: 1, in: b) : nil
        let channelsFirst = try b.transpose(embedded, [0, 2, 1])
        let convolved = try b.scope("conv") {
            try b.node(.conv1D(padding: (conv.kernel - 1) / 2, groups: conv.groups), channelsFirst, weight, bias)
        }
        let out = try b.activation(try b.mul(try b.transpose(convolved, [0, 2, 1]), keep, name: "ZeroPadding"), conv.activation)
        let normed = try b.scope("LayerNorm") { try b.layerNorm(try b.add(residual, out), c.scope("LayerNorm"), epsilon: config.layerNormEpsilon) }
        return try b.mul(normed, keep, name: "ZeroPaddingOutput")
    }

    public func pooler(_ hidden: Value, _ b: GraphBuilder) throws -> Value? { nil }

    public func head(_ task: Task, hidden: Value, _ b: GraphBuilder) throws -> Value {
        switch task {
        case .featureExtraction:
            return hidden
        case .fillMask:
            let words = try wordEmbeddings(b)
            if legacyMaskedLMHead {
                // LegacyDebertaV2LMPredictionHead: transform (dense to embedding_size, act,
                // LayerNorm) → decoder tied to the word embeddings, bias `cls.predictions.bias`.
                let p = root.scope("cls.predictions")
                return try b.scope("cls/predictions") {
                    try b.maskedLMHead(hidden, dense: p.scope("transform.dense"), activation: config.activation,
                                       norm: p.scope("transform.LayerNorm"), epsilon: config.layerNormEpsilon, decoder: p.scope("decoder"),
                                       tiedEmbedding: words, bias: p, tied: config.tieWordEmbeddings)
                }
            }
            // DebertaV2LMPredictionHead: dense → act → LayerNorm → word embeddingsᵀ + bias, always tied.
            guard embeddingSize == config.hiddenSize else {
                throw ExportError("\(w.store.origin): legacy is false and embedding_size \(embeddingSize) differs from hidden_size \(config.hiddenSize): transformers' DebertaV2LMPredictionHead multiplies hidden_size-wide states by the embedding_size-wide word embeddings and fails; export the legacy head (legacy true) or another task")
            }
            let lm = root.scope("lm_predictions.lm_head")
            return try b.scope("lm_predictions/lm_head") {
                try b.maskedLMHead(hidden, dense: lm.scope("dense"), activation: config.activation, norm: lm.scope("LayerNorm"),
                                   epsilon: config.layerNormEpsilon, decoder: lm.scope("decoder"), tiedEmbedding: words, bias: lm, tied: true)
            }
        case .textClassification, .multipleChoice:
            guard pooler.width == config.hiddenSize else {
                throw ExportError("\(w.store.origin): pooler_hidden_size \(pooler.width) differs from hidden_size \(config.hiddenSize); transformers' ContextPooler reads the hidden states at pooler_hidden_size")
            }
            let pooled = try b.scope("pooler") { try b.firstTokenPooler(hidden, dense: root.scope("pooler.dense"), activation: pooler.activation) }
            return try b.linearHead(pooled, root, named: "classifier")
        default:
            return try b.sharedEncoderHead(task, hidden: hidden, root)
        }
    }
}
