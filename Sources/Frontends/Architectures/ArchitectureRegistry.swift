import ONNXExportIR

/// Every supported architecture, one line each. Adding one is a new file plus a line here.
public enum ArchitectureRegistry {
    public static let entries: [ArchitectureEntry] = [
        BERT.entry,
        RoBERTa.entry,
        DistilBERT.entry,
        ELECTRA.entry,
        ALBERT.entry,
        MPNet.entry,
        XLM.entry,
        DeBERTaV2.entry,
        T5.entry,
        XLNet.entry,
        GPT2.entry,
        OpenAIGPT.entry,
        LlamaFamily.llama,
        LlamaFamily.mistral,
        LlamaFamily.qwen2,
        LlamaFamily.qwen3,
        LlamaFamily.phi3,
        LlamaFamily.gemma,
        TransfoXL.entry,
    ]

    public static var supportedModelTypes: [String] { entries.flatMap(\.modelTypes).sorted() }

    /// The entry for `modelType`, or an error listing the supported ones.
    public static func entry(for modelType: String, origin: String) throws -> ArchitectureEntry {
        guard let e = entries.first(where: { $0.modelTypes.contains(modelType) }) else {
            throw ExportError("\(origin): model_type \"\(modelType)\" is not supported; supported model types: \(supportedModelTypes.joined(separator: ", "))")
        }
        return e
    }
}
