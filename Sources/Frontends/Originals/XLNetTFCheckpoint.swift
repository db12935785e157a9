import ONNXExportIR

/// An original XLNet TensorFlow checkpoint (zihangdai/xlnet's pretrained `xlnet_model.ckpt`, or a
/// `run_classifier.py` / `run_squad.py` fine-tuned `model.ckpt-N`) turned into the weights transformers
/// 4's `convert_xlnet_original_tf_checkpoint_to_pytorch.py` gives the model its task picks
/// (`XLNetTFNames`), as `save_pretrained` writes them (the tied `lm_loss.weight` left out), with
/// `OriginalWeights`' checks. Where 4.57's loader leaves a weight at its random initialisation:
///
/// - a classifier under `model/classification_<task>/logit` (the only scope `run_classifier.py` gives
///   classification tasks; the loader maps `regression_<task>` alone) and the SQuAD heads are loaded;
/// - `mask_emb`, which only pretraining graphs create (the query stream), is written as zeros when
///   the checkpoint lacks it, and reported: the fine-tuned models never read it;
/// - any other weight missing is refused by name.
public struct XLNetTFCheckpoint {
    public let tensors: [String: TensorData]
    public let notes: [String]

    public init(store: WeightStore, config: XLNetConfigFile) throws {
        let d = try XLNetDimensions(config.config)
        let model = config.architecture
        var regression = false
        if case .sequenceClassification = config.head, let task = config.task {
            let classification = store.tensors["\(XLNetTFNames.classifier(task, regression: false))/kernel"] != nil
            regression = !classification && store.tensors["\(XLNetTFNames.classifier(task, regression: true))/kernel"] != nil
        }
        if case .sequenceClassification = config.head {
            let summary = try config.config.string("summary_type", default: "last")
            guard ["last", "first", "mean", "cls_index"].contains(summary) else {
                throw ExportError("\(config.config.origin): summary_type \"\(summary)\" is not one XLNetForSequenceClassification computes (last, first, mean, cls_index; transformers has no 'attn')")
            }
        }
        let expected = XLNetTFNames.expected(d, head: config.head, task: config.task, regression: regression)
        var zeroed: [String] = []
        let weights = try OriginalWeights(
            store: store, expected: expected, layout: "zihangdai/xlnet's layout (model/transformer/..., model/lm_loss, run_classifier.py's and run_squad.py's heads)",
            model: model,
            fill: { weight in
                guard weight.rule.transformers == "transformer.mask_emb" else { return nil }
                zeroed.append(weight.rule.original)
                return TensorData(dtype: .float32, shape: [1, 1, d.model], storage: .inline([UInt8](repeating: 0, count: d.model * 4)))
            },
            unknownHint: { Self.why($0, config: config, d) },
            missingHint: { Self.missing($0, config: config, store: store, d) })
        tensors = weights.tensors
        notes = (zeroed.isEmpty ? [] : ["transformer.mask_emb written as zeros: the checkpoint has no \(zeroed[0]) (only pretraining graphs make it; \(model) never reads it; transformers 4 would leave it random)"])
            + weights.notes
    }

    /// Why a variable has no place in the model the config and task build.
    static func why(_ name: String, config: XLNetConfigFile, _ d: XLNetDimensions) -> String? {
        let model = config.architecture
        if name == "model/lm_loss/bias" {
            return "it is the pretraining LM head's bias, which \(model) does not have; without --finetuning-task the LM head model is built"
        }
        if name.hasPrefix("model/sequnece_summary/") {
            if case .sequenceClassification = config.head {
                return "the config says summary_use_proj false, so the model has no summary projection; remove it or set it true"
            }
            return "it belongs to a run_classifier.py classifier; pass its task with --finetuning-task"
        }
        for kind in ["classification", "regression"] where name.hasPrefix("model/\(kind)_") {
            let scope = name.dropFirst("model/\(kind)_".count).split(separator: "/").first.map(String.init) ?? ""
            if case .sequenceClassification = config.head {
                return "it is the \(kind) head of task '\(scope)', but --finetuning-task is \(config.task ?? "")"
            }
            return "it belongs to a run_classifier.py head for task '\(scope)'; pass --finetuning-task \(scope)"
        }
        if ["start_logits/", "end_logits/", "answer_class/"].contains(where: name.hasPrefix) {
            return "it belongs to run_squad.py's heads; pass --finetuning-task squad"
        }
        if name.hasPrefix("\(XLNetTFNames.transformer)/layer_"), let n = Int(name.dropFirst("\(XLNetTFNames.transformer)/layer_".count).prefix { $0.isNumber }),
           n >= d.layers {
            return "the config's n_layer is \(d.layers)"
        }
        return nil
    }

    /// What a missing weight says about the checkpoint or the config.
    static func missing(_ weight: ExpectedWeight, config: XLNetConfigFile, store: WeightStore, _ d: XLNetDimensions) -> String? {
        let name = weight.rule.original
        let heads = store.tensors.keys.compactMap { key -> String? in
            for kind in ["classification", "regression"] where key.hasPrefix("model/\(kind)_") && key.hasSuffix("/logit/kernel") {
                return String(key.dropLast("/logit/kernel".count))
            }
            return nil
        }.sorted()
        if name.hasSuffix("/logit/kernel"), let task = config.task {
            let found = heads.isEmpty ? "the checkpoint has no run_classifier.py head" : "the checkpoint's head is \(heads.joined(separator: ", "))"
            return "neither \(XLNetTFNames.classifier(task, regression: false)) nor \(XLNetTFNames.classifier(task, regression: true)) is there (\(found))"
        }
        if name.hasPrefix("model/sequnece_summary/") {
            return "the config says summary_use_proj (true by default); a model fine-tuned with --use_summ_proj=False needs \"summary_use_proj\": false in it"
        }
        if name == "model/lm_loss/bias", !heads.isEmpty || store.tensors["start_logits/dense/kernel"] != nil {
            return "this is a fine-tuned checkpoint (\(heads.first ?? "run_squad.py's heads")); pass its task with --finetuning-task"
        }
        return "transformers 4's loader would leave it randomly initialised"
    }
}
