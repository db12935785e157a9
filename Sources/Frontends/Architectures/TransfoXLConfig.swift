import ONNXExportIR

/// `TransfoXLConfig` as transformers 4 reads it: the defaults of its `__init__`, the aliases of
/// its `attribute_map` (`n_token`, `hidden_size`, `num_attention_heads`, `num_hidden_layers`,
/// which win over the canonical keys, as transformers sets them last), and `tie_projs` from the
/// file where it is saved (it then replaces what `proj_share_all_but_first` implies).
/// `tie_weight`, transformers 2's key, is read by nothing in transformers 4: `tie_word_embeddings`
/// (default true) ties the softmax to the embedding. `adaptive` is not read by the PyTorch model
/// either: `cutoffs` alone make the softmax adaptive.
struct TransfoXLConfig {
    let vocabSize: Int
    /// Token ids where the clusters after the first begin (without the vocabulary size).
    let cutoffs: [Int]
    let modelWidth: Int
    let embeddingWidth: Int
    let heads: Int
    let headSize: Int
    let innerSize: Int
    let divVal: Int
    let layers: Int
    let preNorm: Bool
    /// `mem_len`; zero or less keeps no memory.
    let memoryLength: Int
    /// `clamp_len`; zero or less does not clamp.
    let clampLength: Int
    let sameLength: Bool
    let untieR: Bool
    let tieWordEmbeddings: Bool
    /// `tie_projs[i]`: the softmax's projection `i` is the embedding's.
    let tieProjections: [Bool]
    let sampleSoftmax: Int
    let epsilon: Double

    /// The largest `mem_len` accepted: a memory is `mem_len × batch × d_model` floats, and sizes
    /// past this would overflow the shape arithmetic long before any runtime could hold them.
    static let memoryLengthLimit = Int(Int32.max)

    init(_ c: ConfigReader) throws {
        func key(_ canonical: String, alias: String) -> String { c.has(alias) ? alias : canonical }
        vocabSize = try c.positiveInt(key("vocab_size", alias: "n_token"), default: 267735)
        cutoffs = try c.optionalInts("cutoffs") ?? [20000, 40000, 200000]
        modelWidth = try c.positiveInt(key("d_model", alias: "hidden_size"), default: 1024)
        embeddingWidth = try c.positiveInt("d_embed", default: 1024)
        heads = try c.positiveInt(key("n_head", alias: "num_attention_heads"), default: 16)
        headSize = try c.positiveInt("d_head", default: 64)
        innerSize = try c.positiveInt("d_inner", default: 4096)
        divVal = try c.positiveInt("div_val", default: 4)
        layers = try c.positiveInt(key("n_layer", alias: "num_hidden_layers"), default: 18)
        preNorm = try c.bool("pre_lnorm", default: false)
        memoryLength = try c.int("mem_len", default: 1600)
        clampLength = try c.int("clamp_len", default: 1000)
        sameLength = try c.bool("same_length", default: true)
        untieR = try c.bool("untie_r", default: true)
        tieWordEmbeddings = try c.bool("tie_word_embeddings", default: true)
        let shareAllButFirst = try c.bool("proj_share_all_but_first", default: true)
        tieProjections = try c.optionalBools("tie_projs") ?? [false] + Array(repeating: shareAllButFirst, count: cutoffs.count)
        sampleSoftmax = try c.int("sample_softmax", default: -1)
        epsilon = try c.double("layer_norm_epsilon", default: 1e-5)

        let attentionType = try c.int("attn_type", default: 0)
        guard attentionType == 0 else {
            throw ExportError("\(c.origin): attn_type \(attentionType) is not supported: transformers implements only 0 (relative positions, learnable biases)")
        }
        guard zip(cutoffs, cutoffs.dropFirst()).allSatisfy({ $0 < $1 }), cutoffs.allSatisfy({ $0 > 0 && $0 < vocabSize }) else {
            throw ExportError("\(c.origin): cutoffs \(cutoffs) must increase strictly between 0 and vocab_size \(vocabSize)")
        }
        guard modelWidth % 2 == 0 else {
            throw ExportError("\(c.origin): d_model \(modelWidth) must be even: the relative sinusoids have 2 × ceil(d_model / 2) channels")
        }
        guard memoryLength <= Self.memoryLengthLimit else {
            throw ExportError("\(c.origin): mem_len \(memoryLength) is larger than \(Self.memoryLengthLimit) positions")
        }
        for i in clusterEnds.indices.dropLast() where clusterWidth(i) == 0 {
            throw ExportError("\(c.origin): d_embed \(embeddingWidth) / div_val \(divVal)^\(i) leaves cluster \(i) no width")
        }
        // transformers ties `out_projs[i]` for every true `tie_projs[i]` where there are
        // projections (div_val > 1, or d_embed ≠ d_model) and fails past the last cluster.
        let clusters = clusterEnds.count - 1
        if divVal != 1 || embeddingWidth != modelWidth, tieProjections.count > clusters, tieProjections[clusters...].contains(true) {
            throw ExportError("\(c.origin): tie_projs \(tieProjections) ties more projections than the \(clusters) clusters of cutoffs \(cutoffs)")
        }
        _ = try c.product([3, heads, headSize], of: "qkv_net's width (3 × n_head × d_head)")
    }

    /// `[0] + cutoffs + [vocab_size]`: cluster `i` holds the ids `[clusterEnds[i], clusterEnds[i+1])`.
    var clusterEnds: [Int] { [0] + cutoffs + [vocabSize] }

    /// Width of cluster `i`'s embedding table: `d_embed // div_val**i`.
    func clusterWidth(_ i: Int) -> Int {
        var width = embeddingWidth
        for _ in 0..<i { width /= divVal }
        return width
    }

    /// Whether the softmax's projection `i` is the embedding's (`tie_projs[i]`; past the list, no).
    func tiesProjection(_ i: Int) -> Bool { i < tieProjections.count && tieProjections[i] }

    var attentionWidth: Int { heads * headSize }
}
