import Foundation
import ONNXExportIR

/// An original Transformer-XL TensorFlow checkpoint (kimiyoung/transformer-xl's `tf/`: the wt103 and
/// lm1b models, `model.ckpt-N`) turned into the weights transformers 4's
/// `convert_transfo_xl_original_tf_checkpoint_to_pytorch.py` gives `TransfoXLLMHeadModel`
/// (`TransfoXLTFNames`), as `save_pretrained` writes them, with `OriginalWeights`' checks, plus the
/// model's one buffer, `transformer.pos_emb.inv_freq`. Unlike 4.57's loader, which leaves the
/// transposed projections as views that `save_pretrained` cannot write as safetensors, every
/// tensor is written contiguous; shared biases (`untie_r` false), on which that loader fails, are
/// converted.
public struct TransfoXLTFCheckpoint {
    public let tensors: [String: TensorData]
    public let notes: [String]

    public init(store: WeightStore, config: ConfigReader) throws {
        let d = try TransfoXLDimensions(config)
        let weights = try OriginalWeights(
            store: store, expected: TransfoXLTFNames.expected(d),
            layout: "kimiyoung/transformer-xl's layout (transformer/adaptive_embed, adaptive_softmax, layer_N, r_w_bias, r_r_bias)",
            model: TransfoXLConfigFile.architecture,
            unknownHint: { Self.why($0, d) }, missingHint: { Self.missing($0, d) })
        var tensors = weights.tensors
        tensors["transformer.pos_emb.inv_freq"] = Self.inverseFrequencies(d.model)
        self.tensors = tensors
        notes = weights.notes
    }

    /// `PositionalEmbedding`'s buffer, `1 / 10000^(arange(0, d, 2) / d)`: the exponent divided in
    /// float32 as torch divides it, the power correctly rounded to float32, its reciprocal in float32.
    /// torch's vectorised float32 `pow` (SLEEF, 1-ulp accurate, and CPU-dependent) misses the
    /// correctly rounded power for a few exponents, so a few values differ from torch's by an ulp or
    /// two (8 of 806 over widths 66, 410, 512, 1024; none at the fixtures' width).
    static func inverseFrequencies(_ model: Int) -> TensorData {
        let values: [Float] = stride(from: 0, to: model, by: 2).map { i in
            let exponent = Float(i) / Float(model)
            return 1 / Float(Foundation.pow(10000.0, Double(exponent)))
        }
        return TensorData.float32(values)
    }

    /// Why a variable has no place in the model.
    static func why(_ name: String, _ d: TransfoXLDimensions) -> String? {
        let parts = name.split(separator: "/")
        if parts.count == 4, parts[1] == "adaptive_softmax", parts[3] == "proj",
           let i = Int(parts[2].dropFirst("cutoff_".count)), i < d.tieProjections.count {
            return "it is an untied output projection, but the config ties cluster \(i)'s to the embedding's proj_W (tie_projs, from proj_share_all_but_first); a model trained without --proj_share_all_but_first needs \"proj_share_all_but_first\": false"
        }
        if parts.count >= 3, parts[1] == "adaptive_embed" || parts[1] == "adaptive_softmax", parts[2].hasPrefix("cutoff_") {
            return "the config's cutoffs \(d.cutoffs) make \(d.cutoffs.count + 1) clusters"
        }
        if parts.count >= 2, parts[1].hasPrefix("layer_"), let n = Int(parts[1].dropFirst("layer_".count)), n >= d.layers {
            return "the config's n_layer is \(d.layers)"
        }
        if name == "transformer/adaptive_embed/lookup_table" || name == "transformer/adaptive_softmax/bias" {
            return "it belongs to a model with div_val 1 or without cutoffs, which transformers' loader cannot convert"
        }
        return nil
    }

    static func missing(_ weight: ExpectedWeight, _ d: TransfoXLDimensions) -> String? {
        if weight.rule.original.hasSuffix("/proj") {
            return "the config unties this output projection (tie_projs); a model trained with --proj_share_all_but_first ties it to the embedding's: set \"proj_share_all_but_first\": true"
        }
        return "transformers 4's loader stops on it (assert name in tf_weights)"
    }
}
