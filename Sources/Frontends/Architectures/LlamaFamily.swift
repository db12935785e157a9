import ONNXExportIR

/// The LLaMA-style architectures, each with what sets it apart (see `LlamaVariant`).
enum LlamaFamily {
    /// LLaMA (`modeling_llama.py`): the reference form; rope scaling linear, dynamic, llama3, yarn, longrope.
    static let llama = entry("llama", LlamaVariant())

    /// Mistral (`modeling_mistral.py`): LLaMA with sliding-window attention on every layer.
    static let mistral = entry("mistral", LlamaVariant(defaultKeyValueHeads: 8, defaultSlidingWindow: 4096, slidingWindow: .allLayers))

    /// Qwen2 (`modeling_qwen2.py`): q/k/v biases (read from the checkpoint), optional sliding
    /// window on layers past `max_window_layers`.
    static let qwen2 = entry("qwen2", LlamaVariant(defaultKeyValueHeads: 32, defaultSlidingWindow: 4096, slidingWindow: .layerTypes))

    /// Qwen3 (`modeling_qwen3.py`): per-head RMSNorm on queries and keys, explicit `head_dim`.
    static let qwen3 = entry("qwen3", LlamaVariant(headNorms: true, defaultHeadSize: 128, defaultSlidingWindow: 4096,
                                                   slidingWindow: .layerTypes))

    /// Phi-3 (`modeling_phi3.py`): fused `qkv_proj` and `gate_up_proj`, sliding window; its
    /// 128k-context checkpoints use longrope, which their older configs spell "su" or "yarn", and
    /// `Phi3Config.original_max_position_embeddings` (default 4096) sets the switch-over length.
    static let phi3 = entry("phi3", LlamaVariant(fusedQKV: true, fusedGateUp: true, slidingWindow: .allLayers,
                                                 rope: RopeConventions(typeAliases: ["su": "longrope", "yarn": "longrope"],
                                                                       defaultOriginalLength: 4096)))

    /// Gemma (`modeling_gemma.py`): RMSNorm scale `1 + weight`, embeddings × √hidden, tanh GELU
    /// (its legacy `hidden_act: "gelu"` means the tanh form), tied head.
    static let gemma = entry("gemma", LlamaVariant(normPlusOne: true, scaledEmbeddings: true,
                                                   activationAliases: ["gelu": .geluPytorchTanh],
                                                   defaultActivation: "gelu_pytorch_tanh", defaultTiedEmbeddings: true,
                                                   defaultKeyValueHeads: 16, defaultHeadSize: 256))

    static func entry(_ modelType: String, _ variant: LlamaVariant) -> ArchitectureEntry {
        ArchitectureEntry(modelTypes: [modelType], tasks: Task.decoderTasks) { try LlamaFamilyDecoder($0, $1, variant: variant) }
    }
}
