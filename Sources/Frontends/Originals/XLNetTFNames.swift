import ONNXExportIR

/// The sizes of an XLNet model, from its config (as `XLNetConfigFile` writes it).
public struct XLNetDimensions {
    var vocab, model, heads, headSize, inner, layers: Int
    var untieR, summaryProjection: Bool

    public init(_ c: ConfigReader) throws {
        vocab = try c.positiveInt("vocab_size")
        model = try c.positiveInt("d_model")
        heads = try c.positiveInt("n_head")
        headSize = try c.positiveInt("d_head")
        inner = try c.positiveInt("d_inner")
        layers = try c.positiveInt("n_layer")
        untieR = try c.bool("untie_r", default: true)
        summaryProjection = try c.bool("summary_use_proj", default: true)
    }
}

/// zihangdai/xlnet's TensorFlow variables under the names transformers 4's
/// `load_tf_weights_in_xlnet` (`build_tf_xlnet_to_pytorch_map`) gives them:
///
/// - `model/transformer/word_embedding/lookup_table` → `transformer.word_embedding.weight`,
///   `model/transformer/mask_emb/mask_emb` → `transformer.mask_emb`;
/// - per layer `model/transformer/layer_{i}/rel_attn/{q,k,v,r,o}/kernel` `[d_model, n_head, d_head]`
///   → `transformer.layer.{i}.rel_attn.{q,k,v,r,o}` as they are; `rel_attn/LayerNorm/{gamma,beta}`
///   → `rel_attn.layer_norm.{weight,bias}`; `ff/layer_1`, `ff/layer_2` (kernels transposed to
///   nn.Linear's `[out, in]`), `ff/LayerNorm`;
/// - `model/transformer/{r_w_bias,r_r_bias,r_s_bias}`, stacked `[n_layer, n_head, d_head]` with
///   `untie_r`, one slice per layer → `transformer.layer.{i}.rel_attn.…`; `seg_embed`
///   `[n_layer, 2, n_head, d_head]` likewise. Without `untie_r` the original code shares one
///   `[n_head, d_head]` bias across layers (and still stacks `seg_embed`); transformers' model has
///   per-layer biases only and its loader fails on these, so each layer gets a copy;
/// - heads: `model/lm_loss/bias` → `lm_loss.bias` (the weight is the tied embedding);
///   `run_classifier.py`'s `model/sequnece_summary/summary` (sic) → `sequence_summary.summary`,
///   `model/classification_<task>/logit` (which 4.57's map lacks: it knows only regression's) or
///   `model/regression_<task>/logit` → `logits_proj`; `run_squad.py`'s `start_logits/dense`,
///   `end_logits/dense_0`, `end_logits/LayerNorm`, `end_logits/dense_1`, `answer_class/dense_0`,
///   `answer_class/dense_1` (no bias) → `start_logits.dense`, ... (not in 4.57's map either). Every
///   head kernel is transposed, as the loader transposes `summary` and `logit` kernels.
public enum XLNetTFNames {
    static let transformer = "model/transformer"

    /// Every weight the model of `head` built from `d` needs; `regression`: the classifier is
    /// `model/regression_<task>/logit` rather than `model/classification_<task>/logit`.
    static func expected(_ d: XLNetDimensions, head: XLNetConfigFile.Head, task: String?, regression: Bool) -> [ExpectedWeight] {
        let t = transformer
        let vocab = "vocab_size \(d.vocab), d_model \(d.model)"
        let attention = "d_model \(d.model), n_head \(d.heads), d_head \(d.headSize)"
        var out = [ExpectedWeight("\(t)/word_embedding/lookup_table", "transformer.word_embedding.weight", shape: [d.vocab, d.model], sizedBy: vocab),
                   ExpectedWeight("\(t)/mask_emb/mask_emb", "transformer.mask_emb", shape: [1, 1, d.model], sizedBy: "d_model \(d.model)")]
        for i in 0..<d.layers {
            let layer = "\(t)/layer_\(i)", target = "transformer.layer.\(i)"
            for bias in ["r_w_bias", "r_r_bias", "r_s_bias"] {
                out.append(d.untieR
                    ? ExpectedWeight("\(t)/\(bias)", "\(target).rel_attn.\(bias)", .row(i), shape: [d.layers, d.heads, d.headSize],
                                     sizedBy: "n_layer \(d.layers), n_head \(d.heads), d_head \(d.headSize), untie_r")
                    : ExpectedWeight("\(t)/\(bias)", "\(target).rel_attn.\(bias)", shape: [d.heads, d.headSize],
                                     sizedBy: "n_head \(d.heads), d_head \(d.headSize), untie_r false"))
            }
            out.append(ExpectedWeight("\(t)/seg_embed", "\(target).rel_attn.seg_embed", .row(i), shape: [d.layers, 2, d.heads, d.headSize],
                                      sizedBy: "n_layer \(d.layers), n_head \(d.heads), d_head \(d.headSize)"))
            for p in ["q", "k", "v", "r", "o"] {
                out.append(ExpectedWeight("\(layer)/rel_attn/\(p)/kernel", "\(target).rel_attn.\(p)", shape: [d.model, d.heads, d.headSize], sizedBy: attention))
            }
            out += norm("\(layer)/rel_attn/LayerNorm", "\(target).rel_attn.layer_norm", d.model)
            out += dense("\(layer)/ff/layer_1", "\(target).ff.layer_1", d.model, d.inner, "d_model \(d.model), d_inner \(d.inner)")
            out += dense("\(layer)/ff/layer_2", "\(target).ff.layer_2", d.inner, d.model, "d_model \(d.model), d_inner \(d.inner)")
            out += norm("\(layer)/ff/LayerNorm", "\(target).ff.layer_norm", d.model)
        }
        switch head {
        case .languageModel:
            out.append(ExpectedWeight("model/lm_loss/bias", "lm_loss.bias", shape: [d.vocab], sizedBy: "vocab_size \(d.vocab)"))
        case .sequenceClassification(let labels):
            if d.summaryProjection {
                out += dense("model/sequnece_summary/summary", "sequence_summary.summary", d.model, d.model, "d_model \(d.model)")
            }
            out += dense(classifier(task ?? "", regression: regression), "logits_proj", d.model, labels,
                         "d_model \(d.model), \(labels) label\(labels == 1 ? "" : "s") of the task")
        case .questionAnswering:
            let model = "d_model \(d.model)"
            out += dense("start_logits/dense", "start_logits.dense", d.model, 1, model)
            out += dense("end_logits/dense_0", "end_logits.dense_0", 2 * d.model, d.model, model)
            out += norm("end_logits/LayerNorm", "end_logits.LayerNorm", d.model)
            out += dense("end_logits/dense_1", "end_logits.dense_1", d.model, 1, model)
            out += dense("answer_class/dense_0", "answer_class.dense_0", 2 * d.model, d.model, model)
            out += dense("answer_class/dense_1", "answer_class.dense_1", d.model, 1, model, bias: false)
        }
        return out
    }

    /// `run_classifier.py`'s classifier scope for a task.
    static func classifier(_ task: String, regression: Bool) -> String {
        "model/\(regression ? "regression" : "classification")_\(task)/logit"
    }

    /// A `tf.layers.dense` layer: its kernel `[in, out]` transposed to nn.Linear's weight, its bias.
    static func dense(_ scope: String, _ target: String, _ input: Int, _ output: Int, _ sizedBy: String, bias: Bool = true) -> [ExpectedWeight] {
        [ExpectedWeight("\(scope)/kernel", "\(target).weight", .transpose, shape: [input, output], sizedBy: sizedBy)]
            + (bias ? [ExpectedWeight("\(scope)/bias", "\(target).bias", shape: [output], sizedBy: sizedBy)] : [])
    }

    /// A `tf.contrib.layers.layer_norm` scope (`LayerNorm/gamma`, `LayerNorm/beta`).
    static func norm(_ scope: String, _ target: String, _ width: Int) -> [ExpectedWeight] {
        [ExpectedWeight("\(scope)/gamma", "\(target).weight", shape: [width], sizedBy: "d_model \(width)"),
         ExpectedWeight("\(scope)/beta", "\(target).bias", shape: [width], sizedBy: "d_model \(width)")]
    }
}
