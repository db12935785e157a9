import ONNXExportIR

/// Mesh TensorFlow's T5 variables (google-research/text-to-text-transfer-transformer's
/// `model.ckpt-N`: T5 v1.0, v1.1, mT5) under the names transformers 4's `load_tf_weights_in_t5`
/// gives them in `T5ForConditionalGeneration`:
///
/// - `shared/embedding` → `shared.weight` (as it is; the encoder's and decoder's `embed_tokens` are
///   the same module);
/// - `{stack}/block_NNN/layer_NNN/{SelfAttention|EncDecAttention}/{q,k,v,o}` (no `kernel`: Mesh
///   TF's attention makes the variables itself, heads combined) → `{stack}.block.N.layer.N.….weight`,
///   transposed to nn.Linear's `[out, in]`; `…/SelfAttention/relative_attention_bias`
///   `[heads, buckets]` transposed to the embedding's `[buckets, heads]`;
/// - `…/DenseReluDense/{wi,wi_0,wi_1,wo}/kernel` → `…DenseReluDense.….weight`, transposed;
/// - a sublayer's norm, `layer_norm/scale` (the 2019 release's legacy LayerStack) or
///   `rms_norm/scale` (newer Mesh TF) → `….layer_norm.weight`; a stack's final norm,
///   `final_layer_norm/scale` or `rms_norm/scale` → `{stack}.final_layer_norm.weight`;
/// - `decoder/logits/kernel` (untied heads: v1.1, mT5) → `lm_head.weight`, transposed.
///
/// Block and layer numbers lose their zeros (`block_007` is `block.7`), as the loader's `int()`.
/// The table maps every combination of these names; which of them a model has (relative biases
/// in the first block only, `wi` or `wi_0`/`wi_1`, the encoder's two sublayers against the
/// decoder's three) is `expected(_:)`'s business, so a weight the model lacks is refused by name
/// rather than dropped.
public enum T5MeshNames {
    /// A stack's sublayers, in `layer_NNN` order.
    static func sublayers(_ stack: String) -> [String] {
        stack == "encoder" ? ["SelfAttention", "DenseReluDense"] : ["SelfAttention", "EncDecAttention", "DenseReluDense"]
    }

    /// The weights of one sublayer, `block` and `layer` spelled as Mesh TF and transformers spell
    /// them: placeholders for the table, numbers for one model's list.
    static func sublayerRules(_ stack: String, _ kind: String, block: (mesh: String, hf: String),
                              layer: (mesh: String, hf: String)) -> [NameRule] {
        let mesh = "\(stack)/block_\(block.mesh)/layer_\(layer.mesh)/\(kind)/"
        let hf = "\(stack).block.\(block.hf).layer.\(layer.hf).\(kind)."
        let weights = kind == "DenseReluDense"
            ? ["wi", "wi_0", "wi_1", "wo"].map { (mesh: "\($0)/kernel", hf: $0) }
            : ["q", "k", "v", "o", "relative_attention_bias"].map { (mesh: $0, hf: $0) }
        return weights.map { NameRule(mesh + $0.mesh, hf + $0.hf + ".weight", .transpose) }
    }

    /// A sublayer's norm under the name `norm` (`layer_norm` or `rms_norm`).
    static func normRule(_ stack: String, block: (mesh: String, hf: String), layer: (mesh: String, hf: String),
                         norm: String) -> NameRule {
        NameRule("\(stack)/block_\(block.mesh)/layer_\(layer.mesh)/\(norm)/scale",
                 "\(stack).block.\(block.hf).layer.\(layer.hf).layer_norm.weight")
    }

    static func finalNormRule(_ stack: String, norm: String) -> NameRule {
        NameRule("\(stack)/\(norm)/scale", "\(stack).final_layer_norm.weight")
    }

    static let embedding = NameRule("shared/embedding", "shared.weight")
    static let logits = NameRule("decoder/logits/kernel", "lm_head.weight", .transpose)

    public static let table = NameTable([embedding, logits] + ["encoder", "decoder"].flatMap { stack in
        let block = (mesh: "{b}", hf: "{b}"), layer = (mesh: "{l}", hf: "{l}")
        return ["SelfAttention", "EncDecAttention", "DenseReluDense"].flatMap { sublayerRules(stack, $0, block: block, layer: layer) }
            + ["layer_norm", "rms_norm"].map { normRule(stack, block: block, layer: layer, norm: $0) }
            + ["final_layer_norm", "rms_norm"].map { finalNormRule(stack, norm: $0) }
    })

    /// Every weight `T5ForConditionalGeneration` built from `d` has (the tied `embed_tokens` and,
    /// when tied, `lm_head` left out, as `save_pretrained` leaves them out), with the Mesh TF name
    /// it comes from (norms under `norm` / `finalNorm`) and its shape in transformers' layout.
    /// At most `maxBlocks` blocks per stack are listed: a config of a billion layers must not
    /// make a billion entries when a checkpoint of a few hundred tensors lacks all but a few.
    static func expected(_ d: T5Dimensions, norm: String, finalNorm: String, maxBlocks: Int) -> [(rule: NameRule, shape: [Int])] {
        var out: [(rule: NameRule, shape: [Int])] = [(embedding, [d.vocab, d.model])]
        for (stack, layers) in [("encoder", d.encoderLayers), ("decoder", d.decoderLayers)] {
            for b in 0..<min(layers, maxBlocks) {
                let block = (mesh: padded(b), hf: "\(b)")
                for (l, kind) in sublayers(stack).enumerated() {
                    let layer = (mesh: padded(l), hf: "\(l)")
                    out.append((normRule(stack, block: block, layer: layer, norm: norm), [d.model]))
                    for rule in sublayerRules(stack, kind, block: block, layer: layer) {
                        let weight = rule.transformers.split(separator: ".").dropLast().last.map(String.init) ?? ""
                        if let shape = d.shape(of: weight, firstSelfAttention: kind == "SelfAttention" && b == 0) {
                            out.append((rule, shape))
                        }
                    }
                }
            }
            out.append((finalNormRule(stack, norm: finalNorm), [d.model]))
        }
        if !d.tied { out.append((logits, [d.vocab, d.model])) }
        return out
    }

    /// Mesh TF's three-digit block and layer numbers.
    static func padded(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
