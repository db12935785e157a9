import Foundation
import ONNXExportIR

/// zihangdai/xlnet's `xlnet_config.json` (`d_head`, `d_inner`, `d_model`, `ff_activation`, `n_head`,
/// `n_layer`, `n_token`, `untie_r`; a transformers XLNet config reads the same way) with a fine-tuning
/// task, read as transformers 4's `convert_xlnet_original_tf_checkpoint_to_pytorch.py` reads them:
/// `XLNetConfig.from_json_file` (`n_token` is `vocab_size` through `attribute_map`; `d_head` must be
/// `d_model / n_head`), then the task picks the model (`PretrainedConfigFile` writes what its
/// `save_pretrained` writes):
///
/// - a GLUE task (`GLUE_TASKS_NUM_LABELS`, any case): `XLNetForSequenceClassification`, `finetuning_task`
///   the lowercased name and its label count (`sts-b` 1, `mnli` 3, the rest 2);
/// - a name containing `squad`: `XLNetForQuestionAnswering`;
/// - no task: `XLNetLMHeadModel` (which alone writes `generation_config.json`).
///
/// Any other task name is refused: the script would build an LM head for it, which a checkpoint
/// fine-tuned on that task cannot fill.
public struct XLNetConfigFile {
    public enum Head: Equatable {
        case languageModel
        case sequenceClassification(labels: Int)
        case questionAnswering
    }

    /// `convert_xlnet_original_tf_checkpoint_to_pytorch.GLUE_TASKS_NUM_LABELS`.
    public static let glueTasks: [(name: String, labels: Int)] = [
        ("cola", 2), ("mnli", 3), ("mrpc", 2), ("sst-2", 2), ("sts-b", 1), ("qqp", 2), ("qnli", 2), ("rte", 2), ("wnli", 2),
    ]

    /// XLNetConfig's `__init__` defaults (`d_head` is derived).
    static let configClass = PretrainedConfigFile.ConfigClass(modelType: "xlnet", defaults: """
        {"vocab_size": 32000, "d_model": 1024, "n_layer": 24, "n_head": 16, "d_inner": 4096, "ff_activation": "gelu",
         "untie_r": true, "attn_type": "bi", "initializer_range": 0.02, "layer_norm_eps": 1e-12, "dropout": 0.1,
         "mem_len": 512, "reuse_len": null, "use_mems_eval": true, "use_mems_train": false, "bi_data": false,
         "clamp_len": -1, "same_length": false, "summary_type": "last", "summary_use_proj": true,
         "summary_activation": "tanh", "summary_last_dropout": 0.1, "start_n_top": 5, "end_n_top": 5,
         "pad_token_id": 5, "bos_token_id": 1, "eos_token_id": 2, "d_head": 64}
        """, attributeMap: ["n_token": "vocab_size", "hidden_size": "d_model", "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"])

    public let head: Head
    /// The lowercased task, as the checkpoint's head scopes spell it (`classification_mnli`).
    public let task: String?
    /// The model class `save_pretrained` names in `architectures`.
    public let architecture: String
    public let configJSON: String
    /// Written for `XLNetLMHeadModel` only (the one that can generate).
    public let generationConfigJSON: String?
    /// The written config, read back.
    public let config: ConfigReader

    public init(path: String, finetuningTask: String?) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExportError("\(path): no such file (--config takes XLNet's xlnet_config.json)")
        }
        let data = Data(try ReadOnlyFile.contents(of: path, atMost: ConfigReader.maximumFileSize, what: "a config"))
        try self.init(data: data, origin: path, finetuningTask: finetuningTask)
    }

    public init(data: Data, origin path: String, finetuningTask: String?) throws {
        var file = try PretrainedConfigFile(data: data, origin: path, configClass: Self.configClass)
        if file.given["max_position_embeddings"] != nil {
            throw ExportError("\(path): XLNetConfig has no max_position_embeddings (XLNet has no sequence length limit; transformers refuses the key)")
        }
        let model = try file.int("d_model"), heads = try file.int("n_head")
        guard model > 0, heads > 0, model % heads == 0 else {
            throw ExportError("\(path): d_model \(model) is not a positive multiple of n_head \(heads) (XLNetConfig requires d_model % n_head == 0)")
        }
        if file.given["d_head"] != nil, try file.int("d_head") != model / heads {
            throw ExportError("\(path): d_head \(try file.int("d_head")) is not d_model / n_head = \(model / heads), as XLNetConfig requires")
        }
        file.values["d_head"] = .number(String(model / heads))
        // The deprecated use_cache sets use_mems_eval (and stays, as any unknown key).
        if let useCache = file.given["use_cache"] { file.values["use_mems_eval"] = useCache }

        let task = finetuningTask.map { $0.lowercased() } ?? ""
        if let glue = Self.glueTasks.first(where: { $0.name == task }) {
            file.values["finetuning_task"] = .string(task)
            file.setLabelCount(glue.labels)
            (head, architecture) = (.sequenceClassification(labels: glue.labels), "XLNetForSequenceClassification")
        } else if task.contains("squad") {
            file.values["finetuning_task"] = .string(task)
            (head, architecture) = (.questionAnswering, "XLNetForQuestionAnswering")
        } else if task.isEmpty {
            (head, architecture) = (.languageModel, "XLNetLMHeadModel")
        } else {
            throw ExportError("\(path): --finetuning-task \(finetuningTask ?? "") is neither a GLUE task (\(Self.glueTasks.map(\.name).joined(separator: ", "))) nor a SQuAD one; transformers' converter knows no other (it would build an LM head, which a checkpoint fine-tuned on that task does not have)")
        }
        self.task = task.isEmpty ? nil : task
        let saved = try file.saved(architecture: architecture, canGenerate: head == .languageModel)
        configJSON = saved.configJSON
        generationConfigJSON = saved.generationConfigJSON
        config = saved.config
    }
}
