import ONNXExportBackend
import ONNXExportFrontends
import ONNXExportIR

/// What to export and how: the options of `onnx-export` as a value deployment tooling can fill in.
public struct ExportOptions: Sendable {
    /// The checkpoint folder (config + weights).
    public var modelFolder: String
    /// A task name or alias (`text-classification`, `sentiment-analysis`, ...), or `auto`: the
    /// task config.json's `architectures` names (`TaskChoice`).
    public var task: String
    /// The folder `model.onnx` is written to.
    public var outputFolder: String
    /// Target ONNX opset, `Opsets.oldest...Opsets.newest`.
    public var opset: Int = Opsets.default
    /// When weights go to `model.onnx_data` instead of inside `model.onnx`.
    public var externalData: ExternalDataMode = .auto
    /// Write into an output folder that already holds files.
    public var force = false
    /// A config file to use instead of the folder's `config.json`.
    public var configFile: String? = nil
    /// The architecture, for original configs that do not name it (`bert_config.json`).
    public var modelType: String? = nil
    /// The floating-point type the model computes in.
    public var precision: ExportPrecision = .float32
    /// Also write `genai_config.json`, so onnxruntime-genai loads the folder (decoders it
    /// implements, `text-generation-with-past`).
    public var genai = false
    /// Weight-only block quantization of the matrix products (`--quantize`); nil keeps every
    /// weight in `precision`.
    public var quantization: WeightQuantization? = nil
    /// Standard operators only (the default), or also onnxruntime's fused ones (`--target`).
    public var target: ExportTarget = .portable
    /// Called about 4 times a second while the weights are written, from a thread of the
    /// exporter's own, and once more at the end (`ExportProgress.finished`); the library itself
    /// prints nothing. nil (the default) counts nothing.
    public var progress: (@Sendable (ExportProgress) -> Void)? = nil
    /// Seconds between progress reports (tests shorten it).
    var progressInterval = 0.25

    public init(modelFolder: String, task: String = TaskChoice.auto, outputFolder: String) {
        self.modelFolder = modelFolder; self.task = task; self.outputFolder = outputFolder
    }
}

/// What an export wrote, for the CLI's summary and for callers.
public struct ExportReport: Sendable {
    public struct Port: Sendable {
        public var name: String
        public var type: TensorType
    }
    public var modelType: String
    public var task: String
    /// How `auto` chose the task ("from architectures: LlamaForCausalLM"); nil when it was named.
    public var taskReason: String?
    public var opset: Int
    /// The type weights are stored in and the model computes in.
    public var dtype: DataType
    /// The quantization asked for, and how many matrix products it rewrote (over every graph).
    public var quantization: WeightQuantization?
    public var quantizedProducts: Int
    public var irVersion: Int64
    /// One model file written; most tasks write one, an encoder-decoder's generation several.
    public struct File: Sendable {
        public var path: String
        public var bytes: Int
        public var inputs: [Port]
        public var outputs: [Port]
    }
    /// The first file's inputs and outputs.
    public var inputs: [Port]
    public var outputs: [Port]
    /// Every model file, in the order written (`files[0].path == modelPath`).
    public var files: [File]
    public var modelPath: String
    public var dataPath: String?
    /// Bytes of the model files together, and of the one data file they share.
    public var modelBytes: Int
    public var dataBytes: Int
    /// Nodes and initializers over every file (a merged file counts its branches' nodes).
    public var nodeCount: Int
    public var initializerCount: Int
    public var copiedFiles: [String]
    public var seconds: Double
}
