import ArgumentParser
import Foundation
import ONNXExport
import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// `onnx-export`: the command-line shell around `Exporter.export`. It parses options, calls the
/// library, prints what was written, and turns errors into a message and exit code 1.
struct OnnxExport: ParsableCommand {
    // A computed property: a `static let` here crashed release builds at start-up (Swift 6.3.1).
    static var configuration: CommandConfiguration { CommandConfiguration(
        commandName: "onnx-export",
        abstract: "Export a transformers checkpoint (config + weights) to an ONNX model, without PyTorch.",
        discussion: """
        Reads the checkpoint folder's config.json and weights (model.safetensors, or shards listed in \
        model.safetensors.index.json) and writes OUTPUT_DIR/model.onnx, plus model.onnx_data when the \
        weights go to external data. config.json and tokenizer files are copied beside the model.

        Inputs and outputs use the optimum exporter's names and dynamic axes (batch_size, \
        sequence_length, num_choices), so the model runs at any batch size and sequence length.

        Architectures (model_type): \(ArchitectureRegistry.supportedModelTypes.joined(separator: ", ")).
        Tasks: \(Task.allCases.map(\.rawValue).joined(separator: ", ")); aliases: sentiment-analysis, ner, ...

        With --task auto (the default) the task is the one the checkpoint was saved for, read from \
        config.json's architectures and printed ("task: text-generation-with-past (from \
        architectures: LlamaForCausalLM)"); a config without architectures exports feature-extraction.

        While the weights are written, a progress line (bytes written, rate, time left) is redrawn \
        on stderr when it is a terminal; piped stderr gets only errors.

        Example:
          onnx-export --model ./bert-tiny ./bert-tiny-onnx
          onnx-export --model ./bert-tiny --task text-classification --opset 17 ./bert-tiny-onnx
          onnx-export --model ./llama --task text-generation-with-past --quantize int4 ./llama-int4

        `onnx-export convert` rewrites an original checkpoint (TensorFlow BERT, ALBERT or GPT-2, OpenAI \
        GPT numpy parameters, facebookresearch/XLM's .pth files, Mesh TensorFlow T5, TensorFlow XLNet \
        and Transformer-XL) as a transformers folder; see `onnx-export convert --help`.
        """) }

    @Option(name: .long, help: ArgumentHelp("Checkpoint folder holding config.json and the weights.", valueName: "DIR"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("What the model computes. auto (the default): the task of the model class config.json's architectures names, as optimum infers it (LlamaForCausalLM: text-generation-with-past, BertForSequenceClassification: text-classification, BertModel: feature-extraction; no architectures: feature-extraction), printed before the export. Encoders: feature-extraction, fill-mask, text-classification, token-classification, question-answering, multiple-choice. Decoders: feature-extraction, text-generation, text-generation-with-past (KV cache inputs past_key_values.N.key|value, outputs present.N.key|value), text-classification, token-classification. Transformer-XL: feature-extraction, text-generation, text-generation-with-past (memory inputs mems.N, outputs new_mems.N). Aliases: sentiment-analysis, ner, causal-lm, ...", valueName: "TASK"))
    var task: String = TaskChoice.auto

    @Option(name: .long, help: ArgumentHelp("Target ONNX opset, \(Opsets.oldest) to \(Opsets.newest). The default \(Opsets.default) is the first with a native LayerNormalization, accepted by onnxruntime 1.12 and newer.", valueName: "N"))
    var opset: Int = Opsets.default

    @Option(name: .customLong("external-data"), help: ArgumentHelp("auto: weights go to model.onnx_data when the model would pass 2 GiB (with --genai: always); always: every weight of 1 KiB or more goes there (offsets aligned to 4096); never: one file, refused past 2 GiB.", valueName: "auto|always|never"))
    var externalData: String = "auto"

    @Option(name: .long, help: ArgumentHelp("Floating-point type of the weights and arithmetic: fp32 (default), fp16, bf16 (opset 13+), or auto (the type the checkpoint was saved in). With fp16/bf16, LayerNorm statistics and attention softmax run in float32, and outputs other than the KV cache are float32.", valueName: "fp32|fp16|bf16|auto"))
    var dtype: String = "fp32"

    @OptionGroup var quantization: QuantizationOptions

    @Option(name: .long, help: ArgumentHelp("A config file to use instead of the folder's config.json.", valueName: "FILE"))
    var config: String?

    @Option(name: .customLong("model-type"), help: ArgumentHelp("The architecture (bert, gpt2, ...) when the config does not name it, as original configs such as bert_config.json do not.", valueName: "TYPE"))
    var modelType: String?

    @Flag(name: .long, help: ArgumentHelp("Also write genai_config.json so onnxruntime-genai loads the folder (text-generation-with-past of llama, mistral, qwen2, qwen3, phi3, gemma); tokenizer files beside the checkpoint are copied as always."))
    var genai = false

    @Option(name: .long, help: ArgumentHelp("portable: standard ONNX operators only, for any runtime. onnxruntime: also onnxruntime's fused GroupQueryAttention (LLaMA-family decoders: rotary, cache append and attention in one kernel; with --genai the runtime shares one cache buffer) and SkipSimplifiedLayerNormalization; such graphs take unpadded or right-padded rows.", valueName: "portable|onnxruntime"))
    var target: String = "portable"

    @Flag(name: .long, help: "Write into an output folder that already holds files, replacing what the export writes.")
    var force = false

    @Flag(name: .long, help: "Print nothing but errors: no inferred task, no summary, no progress. (Progress is drawn on stderr only when it is a terminal.)")
    var quiet = false

    @Flag(name: .customLong("print-newest-opset"), help: ArgumentHelp("Print the newest supported opset and exit.", visibility: .hidden))
    var printNewestOpset = false

    @Argument(help: ArgumentHelp("Folder to write model.onnx (and model.onnx_data) into.", valueName: "OUTPUT_DIR"))
    var output: String?

    func run() throws {
        if printNewestOpset {
            print(Opsets.newest)
            return
        }
        guard let model else { throw ValidationError("--model DIR is required") }
        guard let output else { throw ValidationError("OUTPUT_DIR is required") }
        guard let mode = ExternalDataMode(rawValue: externalData) else {
            throw ValidationError("--external-data must be auto, always or never, not '\(externalData)'")
        }
        let precision: ExportPrecision
        do { precision = try ExportPrecision(name: dtype) } catch let error as ExportError { throw ValidationError(error.message) }
        var options = ExportOptions(modelFolder: model, task: task, outputFolder: output)
        options.precision = precision
        options.quantization = try quantization.settings()
        options.opset = opset
        options.externalData = mode
        options.force = force
        options.configFile = config
        options.modelType = modelType
        options.genai = genai
        do { options.target = try ExportTarget(name: target) } catch let error as ExportError { throw ValidationError(error.message) }
        let progress = ProgressLine.forStandardError(quiet: quiet)
        options.progress = progress?.report
        do {
            if task.lowercased() == TaskChoice.auto {
                let choice = try Exporter.chooseTask(options)
                if !quiet { print(choice) }
                options.task = choice.task.rawValue
            }
            let report = try Exporter.export(options)
            if !quiet { print(ExportSummary(report).text) }
        } catch let error as ExportError {
            progress?.end()
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

// `convert` is dispatched by hand: the export command's positional OUTPUT_DIR would otherwise
// take the word "convert" as a folder name.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "convert" {
    Convert.main(Array(arguments.dropFirst()))
} else {
    OnnxExport.main(arguments)
}
