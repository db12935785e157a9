import ArgumentParser
import Foundation
import ONNXExport
import ONNXExportIR

/// `onnx-export convert`: the conversion the original documentation describes
/// (`convert --model_type bert --tf_checkpoint ... --config ... --pytorch_dump_output ...`),
/// without TensorFlow or PyTorch.
struct Convert: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "onnx-export convert",
            abstract: "Convert an original checkpoint into a folder transformers' from_pretrained loads.",
            discussion: """
            Reads Google's TensorFlow BERT (bert_model.ckpt + bert_config.json) or ALBERT \
            (model.ckpt-best + albert_config.json; also checkpoints saved through the TF-Hub module, \
            whose names start with module/), OpenAI's GPT-2 TensorFlow checkpoint (model.ckpt + \
            hparams.json) or OpenAI GPT's numpy parameters (params_shapes.json + params_N.npy) and \
            writes config.json in transformers' form with the weights under transformers' names and \
            layouts (model.safetensors, or pytorch_model.bin with --format pytorch). Optimizer slots \
            and global_step are left out. Tokenizer files beside the checkpoint are copied (GPT-2's \
            encoder.json / vocab.bpe as vocab.json / merges.txt, ALBERT's 30k-clean.model as \
            spiece.model).

            With --model-type xlm, --tf-checkpoint is one of facebookresearch/XLM's pretrained files \
            (mlm_en_2048.pth ...; torch.save's legacy pre-1.6 format, or zip), read by the restricted \
            unpickler: the weights get transformers' names, config.json is the checkpoint's params \
            (tensors and NumPy arrays left out, model_type added) and vocab.json its dico_word2id, as \
            transformers' convert_xlm_original_pytorch_checkpoint_to_pytorch.py writes them.

            With --model-type t5 or mt5, --tf-checkpoint is an original T5 checkpoint (Mesh \
            TensorFlow's model.ckpt-N: T5 v1.0, v1.1, mT5; that step is read, not the latest) and \
            --config a transformers T5 config; the weights, config.json and generation_config.json \
            are what transformers 4's convert_t5_original_tf_checkpoint_to_pytorch.py writes \
            (Adafactor slots and global_step left out). A weight the config's model lacks, needs but \
            the checkpoint lacks, or whose shape disagrees is refused by name. umt5 has no TensorFlow \
            checkpoints to convert.

            With --model-type xlnet, --tf-checkpoint is one of zihangdai/xlnet's TensorFlow \
            checkpoints (xlnet_model.ckpt, or a model.ckpt-N saved by run_classifier.py or \
            run_squad.py) and --config its xlnet_config.json (by default the one beside it). \
            --finetuning-task picks the model as transformers' convert_xlnet_original_tf_checkpoint_to_pytorch.py \
            does: a GLUE task (cola, mnli, mrpc, sst-2, sts-b, qqp, qnli, rte, wnli) gives \
            XLNetForSequenceClassification with that task's label count (its classifier read from \
            model/classification_<task>/logit or model/regression_<task>/logit), a name containing \
            squad XLNetForQuestionAnswering (start_logits/, end_logits/, answer_class/), none \
            XLNetLMHeadModel (model/lm_loss/bias). A fine-tuned checkpoint has no mask_emb (only \
            pretraining makes it); it is written as zeros and reported. spiece.model beside the \
            checkpoint is copied.

            With --model-type transfo-xl (or transfo_xl), --tf-checkpoint is one of kimiyoung/transformer-xl's \
            TensorFlow checkpoints (div_val > 1: wt103, lm1b) and --config a transformers \
            Transformer-XL config (TransfoXLConfig's JSON; the originals were configured by flags; \
            without --config, TransfoXLConfig()'s defaults, the wt103 model, as transformers' script \
            uses). The output is TransfoXLLMHeadModel's, every tensor contiguous. Shared \
            r_w_bias/r_r_bias (untie_r false) are converted too. The corpus pickle transformers' script \
            also converts (--transfo_xl_dataset_file, the vocabulary) is not read: unpickling it would \
            run arbitrary code, and this tool's unpickler admits only a state dict's globals. Adam \
            slots (*/Adam, */Adam_1), beta1_power, beta2_power and global_step are left out and \
            reported, for both models; a variable the model has no place for, one it needs but the \
            checkpoint lacks, or a misshapen one is refused by name.

            Examples:
              onnx-export convert --model-type bert --tf-checkpoint uncased_L-12_H-768_A-12/bert_model.ckpt \\
                --config uncased_L-12_H-768_A-12/bert_config.json --output bert-hf
              onnx-export convert --model-type xlm --tf-checkpoint mlm_en_2048.pth --output xlm-mlm-en-2048
              onnx-export convert --model-type t5 --tf-checkpoint t5-small/model.ckpt-1000000 \\
                --config t5_small_config.json --output t5-small-hf
              onnx-export convert --model-type xlnet --tf-checkpoint xlnet_cased_L-12_H-768_A-12/xlnet_model.ckpt \\
                --output xlnet-base-cased
              onnx-export convert --model-type xlnet --tf-checkpoint mnli/model.ckpt-10000 \\
                --config xlnet_config.json --finetuning-task mnli --output xlnet-mnli
              onnx-export convert --model-type transfo-xl --tf-checkpoint wt103/model.ckpt-0 \\
                --config transfo_xl_wt103.json --output transfo-xl-wt103
            """)
    }

    @Option(name: .customLong("model-type"), help: ArgumentHelp("The architecture: bert, albert, gpt2, openai-gpt, xlm, t5, mt5, xlnet, transfo-xl.", valueName: "TYPE"))
    var modelType: String

    @Option(name: .customLong("tf-checkpoint"), help: ArgumentHelp("The TensorFlow checkpoint prefix (.../model.ckpt, .../model.ckpt-N), the folder of OpenAI GPT numpy parameters, or XLM's .pth file.", valueName: "PATH"))
    var tfCheckpoint: String

    @Option(name: .long, help: ArgumentHelp("The original config (bert_config.json, albert_config.json, hparams.json, xlnet_config.json) or a transformers config.json; by default the one beside the checkpoint. Not used with xlm, whose config is in the checkpoint; t5 and mt5 need a transformers T5 config, transfo-xl a transformers Transformer-XL config (default: TransfoXLConfig()'s).", valueName: "FILE"))
    var config: String?

    @Option(name: .customLong("finetuning-task"), help: ArgumentHelp("xlnet only: the task the checkpoint was fine-tuned on, as transformers' --finetuning_task (a GLUE task or squad).", valueName: "NAME"))
    var finetuningTask: String?

    @Option(name: .long, help: ArgumentHelp("Folder to write into.", valueName: "DIR"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Weights file format: safetensors (model.safetensors) or pytorch (pytorch_model.bin).", valueName: "safetensors|pytorch"))
    var format: String = "safetensors"

    @Flag(name: .long, help: "Write into an output folder that already holds files.")
    var force = false

    @Flag(name: .long, help: "Print nothing but errors: no summary, notes or progress. (Progress is drawn on stderr only when it is a terminal.)")
    var quiet = false

    func run() throws {
        guard let weightsFormat = ConvertOptions.Format(rawValue: format) else {
            throw ValidationError("--format must be safetensors or pytorch, not '\(format)'")
        }
        var options = ConvertOptions(modelType: modelType, checkpoint: tfCheckpoint, outputFolder: output)
        options.configFile = config
        options.finetuningTask = finetuningTask
        options.format = weightsFormat
        options.force = force
        let progress = ProgressLine.forStandardError(quiet: quiet)
        options.progress = progress?.report
        do {
            let report = try Converter.convert(options)
            if quiet { return }
            print("Converted \(report.tensorCount) tensors (\(ExportSummary.bytes(report.weightBytes))) from \(report.sourceFormat) in \(String(format: "%.2f", report.seconds)) s:")
            for file in report.files { print("  \(file)") }
            for note in report.notes { print("note: \(note)") }
        } catch let error as ExportError {
            progress?.end()
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
