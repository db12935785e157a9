import ONNXExportIR

/// Every reader entry point that takes bytes from a file, driven the way an export drives it:
/// the input is written where the reader looks (`FuzzScratch`), the reader parses its header or
/// index and lists the tensors, and `FuzzDrain` streams their bytes through the exporter's
/// `TensorData` producers. The libFuzzer targets under `Fuzz/` and the regression tests
/// (`Tests/Fixtures/fuzz-regressions/<target>/`) both call `run`.
///
/// Bad input must end in an `ExportError`; anything else thrown (`FuzzInvariantViolation`, a
/// Foundation error) is a finding, as is a crash, a hang or an allocation past the fuzzer's limit.
public enum ReaderFuzzTarget: String, CaseIterable, Sendable {
    /// One `.safetensors` file: the header length, the JSON header, every tensor's range.
    case safetensors
    /// A sharded folder: `model.safetensors.index.json` and two shards (`FuzzInputParts`: index, shard 1, shard 2).
    case safetensorsIndex = "safetensors-index"
    /// `config.json` through `ConfigLocator` and the architecture registry to a built, checked graph.
    case config
    /// A config that predates transformers (first byte: which; `OriginalConfigFuzzEntry`) to a built graph.
    case originalConfig = "original-config"
    /// A `torch.save` file: the zip central directory and the restricted unpickler, or the legacy stream.
    case pytorch
    /// A TensorFlow tensor bundle (parts: `.index` with its block checksums made right by
    /// `FuzzTableChecksums`, `.data-00000-of-00001`).
    case tensorBundle = "tensor-bundle"
    /// One `.npy` array.
    case npy
    /// One `.npz` archive.
    case npz
    /// OpenAI's GPT parameters (parts: `params_shapes.json`, `params_0.npy`, `params_1.npy`).
    case openAIParams = "openai-params"

    /// Runs the reader on `input`. `shelf` gives the config target weights to build with.
    public func run(_ input: [UInt8], scratch: FuzzScratch, shelf: FuzzCheckpointShelf) throws {
        switch self {
        case .safetensors:
            try scratch.write([("model.safetensors", input[...])])
            try FuzzDrain.stream(try SafetensorsReader.read(file: scratch.path(of: "model.safetensors")))
        case .safetensorsIndex:
            let parts = FuzzInputParts.split(input, count: 3)
            let folder = try scratch.write([(SafetensorsIndex.fileName, parts[0]),
                                            ("model-00001-of-00002.safetensors", parts[1]),
                                            ("model-00002-of-00002.safetensors", parts[2])])
            try FuzzDrain.stream(try SafetensorsReader.open(folder: folder).tensors)
        case .config:
            let folder = try scratch.write([("config.json", input[...])])
            try ConfigFuzzEntry.build(folder: folder, shelf: shelf)
        case .originalConfig:
            try OriginalConfigFuzzEntry.build(input, scratch: scratch, shelf: shelf)
        case .pytorch:
            try scratch.write([("pytorch_model.bin", input[...])])
            try FuzzDrain.stream(try PyTorchReader.read(file: scratch.path(of: "pytorch_model.bin")))
        case .tensorBundle:
            let parts = FuzzInputParts.split(input, count: 2)
            try scratch.write([("model.ckpt.index", FuzzTableChecksums.fixed(parts[0])[...]), ("model.ckpt.data-00000-of-00001", parts[1])])
            try FuzzDrain.stream(try TensorBundleReader.read(prefix: scratch.path(of: "model.ckpt")))
        case .npy:
            try scratch.write([("array.npy", input[...])])
            try FuzzDrain.stream(try NumpyReader.read(npy: scratch.path(of: "array.npy")), name: "array")
        case .npz:
            try scratch.write([("arrays.npz", input[...])])
            try FuzzDrain.stream(try NumpyReader.readNPZ(scratch.path(of: "arrays.npz")))
        case .openAIParams:
            let parts = FuzzInputParts.split(input, count: 3)
            let folder = try scratch.write([(NumpyOpenAIParams.shapesFileName, parts[0]),
                                            ("params_0.npy", parts[1]), ("params_1.npy", parts[2])])
            try FuzzDrain.stream(try NumpyReader.open(folder: folder).tensors)
        }
    }
}
