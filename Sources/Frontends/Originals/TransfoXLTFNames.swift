import Foundation
import ONNXExportIR

/// The sizes of a Transformer-XL model, from its config (as `TransfoXLConfigFile` writes it).
public struct TransfoXLDimensions {
    var vocab, model, embedding, heads, headSize, inner, layers, divVal: Int
    var cutoffs: [Int]
    var tieProjections: [Bool]
    var untieR: Bool

    /// Cluster `i`'s first token id and size.
    var clusterEnds: [Int] { [0] + cutoffs + [vocab] }
    /// Cluster `i`'s embedding width, `d_embed // div_val^i`.
    func width(_ i: Int) -> Int {
        var w = embedding
        for _ in 0..<i { w /= divVal }
        return w
    }

    public init(_ c: ConfigReader) throws {
        let origin = c.origin
        vocab = try c.positiveInt("vocab_size")
        model = try c.positiveInt("d_model")
        embedding = try c.positiveInt("d_embed")
        heads = try c.positiveInt("n_head")
        headSize = try c.positiveInt("d_head")
        inner = try c.positiveInt("d_inner")
        layers = try c.positiveInt("n_layer")
        divVal = try c.positiveInt("div_val")
        untieR = try c.bool("untie_r", default: true)
        cutoffs = try c.doubles("cutoffs").map { value in
            guard value.rounded() == value, let n = Int(exactly: value) else { throw ExportError("\(origin): cutoffs must be integers, not \(value)") }
            return n
        }
        guard let ties = c.fields["tie_projs"] as? [Any] else { throw ExportError("\(origin): 'tie_projs' must be a list of booleans") }
        tieProjections = try ties.map { value in
            guard let b = value as? Bool ?? (value as? NSNumber).map({ $0.doubleValue != 0 }) else {
                throw ExportError("\(origin): 'tie_projs' must be a list of booleans")
            }
            return b
        }
        // What transformers' Transformer-XL and its TensorFlow loader can hold at all.
        guard !cutoffs.isEmpty else {
            throw ExportError("\(origin): cutoffs is empty: transformers' Transformer-XL loader needs an adaptive softmax with clusters (enwik8/text8-style models without cutoffs have no cluster_W and no cutoff_N scopes)")
        }
        guard divVal > 1 else {
            throw ExportError("\(origin): div_val is 1: the original code then names its embedding transformer/adaptive_embed/lookup_table (no cutoff_N scopes) and keeps one softmax bias per cluster, which transformers' loader cannot map (it asserts on the names); only div_val > 1 checkpoints (wt103, lm1b) convert")
        }
        guard zip(clusterEnds, clusterEnds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ExportError("\(origin): cutoffs \(cutoffs) must rise strictly between 0 and vocab_size \(vocab)")
        }
        guard tieProjections.count == cutoffs.count + 1 else {
            throw ExportError("\(origin): tie_projs has \(tieProjections.count) entries for \(cutoffs.count + 1) clusters")
        }
        guard model % 2 == 0 else {
            throw ExportError("\(origin): d_model \(model) is odd; Transformer-XL's sinusoidal position embedding has d_model / 2 frequencies, each a sine and a cosine")
        }
        for i in 0...cutoffs.count where width(i) == 0 {
            throw ExportError("\(origin): cluster \(i)'s embedding width d_embed // div_val^\(i) is 0 (d_embed \(embedding), div_val \(divVal))")
        }
        if try c.int("attn_type", default: 0) != 0 {
            throw ExportError("\(origin): attn_type \(try c.int("attn_type")) is not 0; transformers' Transformer-XL implements only the relative attention of the released checkpoints")
        }
        if try c.int("sample_softmax", default: -1) > 0 {
            throw ExportError("\(origin): sample_softmax \(try c.int("sample_softmax")) > 0 is refused by TransfoXLLMHeadModel")
        }
        if !(try c.bool("tie_word_embeddings", default: true)) {
            throw ExportError("\(origin): tie_word_embeddings false: the original adaptive softmax reads the embedding tables, and transformers' loader has no untied output layers (NotImplementedError)")
        }
    }
}

/// kimiyoung/transformer-xl's TensorFlow variables (`tf/model.py`, div_val > 1) under the names
/// transformers 4's `load_tf_weights_in_transfo_xl` (`build_tf_to_pytorch_map`) gives them in
/// `TransfoXLLMHeadModel`, as `save_pretrained` writes them:
///
/// - `transformer/adaptive_embed/cutoff_{i}/lookup_table` → `transformer.word_emb.emb_layers.{i}.weight`
///   (`crit.out_layers.{i}.weight` is the same tensor, tied, not written); `…/proj_W`
///   `[d_i, d_model]` → `transformer.word_emb.emb_projs.{i}` transposed;
/// - `transformer/adaptive_softmax/cutoff_{i}/b` → `crit.out_layers.{i}.bias`; `…/proj` (only where
///   `tie_projs[i]` is false; a tied one is the embedding's, not written) → `crit.out_projs.{i}`
///   transposed; `cutoff_0/cluster_W`, `cluster_b` → `crit.cluster_weight`, `crit.cluster_bias`;
/// - per layer `transformer/layer_{i}/rel_attn/{qkv,r,o}/kernel` → `…dec_attn.{qkv,r,o}_net.weight`,
///   `ff/layer_1` and `ff/layer_2` → `pos_ff.CoreNet.0` and `pos_ff.CoreNet.3` (kernels transposed),
///   `rel_attn/LayerNorm`, `ff/LayerNorm` → `dec_attn.layer_norm`, `pos_ff.layer_norm`;
/// - `transformer/r_w_bias`, `r_r_bias`: with `untie_r`, `[n_layer, n_head, d_head]`, one slice per
///   layer → `transformer.layers.{i}.dec_attn.r_w_bias`; without, `[n_head, d_head]` →
///   `transformer.r_w_bias`, which every layer's attention holds too (written under every name, as
///   `save_pretrained`'s torch format writes the aliases; 4.57's loader itself fails on these).
///
/// The loader transposes every variable whose name holds `kernel` or `proj`.
public enum TransfoXLTFNames {
    static func expected(_ d: TransfoXLDimensions) -> [ExpectedWeight] {
        var out: [ExpectedWeight] = []
        let biasSize = "n_head \(d.heads), d_head \(d.headSize)"
        for bias in ["r_w_bias", "r_r_bias"] {
            if d.untieR {
                out += (0..<d.layers).map {
                    ExpectedWeight("transformer/\(bias)", "transformer.layers.\($0).dec_attn.\(bias)", .row($0),
                                   shape: [d.layers, d.heads, d.headSize], sizedBy: "n_layer \(d.layers), \(biasSize), untie_r")
                }
            } else {
                out += (["transformer.\(bias)"] + (0..<d.layers).map { "transformer.layers.\($0).dec_attn.\(bias)" }).map {
                    ExpectedWeight("transformer/\(bias)", $0, shape: [d.heads, d.headSize], sizedBy: "\(biasSize), untie_r false")
                }
            }
        }
        let ends = d.clusterEnds
        for i in 0...d.cutoffs.count {
            let size = ends[i + 1] - ends[i], width = d.width(i)
            let sized = "cutoffs \(d.cutoffs), vocab_size \(d.vocab), d_embed \(d.embedding), div_val \(d.divVal), d_model \(d.model)"
            out.append(ExpectedWeight("transformer/adaptive_embed/cutoff_\(i)/lookup_table", "transformer.word_emb.emb_layers.\(i).weight",
                                      shape: [size, width], sizedBy: sized))
            out.append(ExpectedWeight("transformer/adaptive_embed/cutoff_\(i)/proj_W", "transformer.word_emb.emb_projs.\(i)", .transpose,
                                      shape: [width, d.model], sizedBy: sized))
        }
        let attention = "d_model \(d.model), n_head \(d.heads), d_head \(d.headSize)"
        let ff = "d_model \(d.model), d_inner \(d.inner)"
        for i in 0..<d.layers {
            let layer = "transformer/layer_\(i)", target = "transformer.layers.\(i)"
            out += [ExpectedWeight("\(layer)/rel_attn/qkv/kernel", "\(target).dec_attn.qkv_net.weight", .transpose,
                                   shape: [d.model, 3 * d.heads * d.headSize], sizedBy: attention),
                    ExpectedWeight("\(layer)/rel_attn/r/kernel", "\(target).dec_attn.r_net.weight", .transpose,
                                   shape: [d.model, d.heads * d.headSize], sizedBy: attention),
                    ExpectedWeight("\(layer)/rel_attn/o/kernel", "\(target).dec_attn.o_net.weight", .transpose,
                                   shape: [d.heads * d.headSize, d.model], sizedBy: attention)]
            out += XLNetTFNames.norm("\(layer)/rel_attn/LayerNorm", "\(target).dec_attn.layer_norm", d.model)
            out += XLNetTFNames.dense("\(layer)/ff/layer_1", "\(target).pos_ff.CoreNet.0", d.model, d.inner, ff)
            out += XLNetTFNames.dense("\(layer)/ff/layer_2", "\(target).pos_ff.CoreNet.3", d.inner, d.model, ff)
            out += XLNetTFNames.norm("\(layer)/ff/LayerNorm", "\(target).pos_ff.layer_norm", d.model)
        }
        let clusters = "\(d.cutoffs.count) cutoffs, d_embed \(d.embedding)"
        out += [ExpectedWeight("transformer/adaptive_softmax/cutoff_0/cluster_W", "crit.cluster_weight", shape: [d.cutoffs.count, d.embedding], sizedBy: clusters),
                ExpectedWeight("transformer/adaptive_softmax/cutoff_0/cluster_b", "crit.cluster_bias", shape: [d.cutoffs.count], sizedBy: clusters)]
        for i in 0...d.cutoffs.count {
            let scope = "transformer/adaptive_softmax/cutoff_\(i)"
            out.append(ExpectedWeight("\(scope)/b", "crit.out_layers.\(i).bias", shape: [ends[i + 1] - ends[i]],
                                      sizedBy: "cutoffs \(d.cutoffs), vocab_size \(d.vocab)"))
            if !d.tieProjections[i] {
                out.append(ExpectedWeight("\(scope)/proj", "crit.out_projs.\(i)", .transpose, shape: [d.width(i), d.model],
                                          sizedBy: "d_embed \(d.embedding), div_val \(d.divVal), d_model \(d.model)"))
            }
        }
        return out
    }
}
