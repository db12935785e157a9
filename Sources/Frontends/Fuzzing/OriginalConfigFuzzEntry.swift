import ONNXExportIR

/// The original-config target's run: the input's first byte picks one of the configs that
/// predate transformers (`readers`), the rest is that file; it is translated as an export or a
/// conversion translates it, and the model built from the result as the config target builds one.
enum OriginalConfigFuzzEntry {
    /// The file name each reader reads, and how it turns that file into transformers' config.
    static let readers: [(fileName: String, read: (String, String) throws -> ConfigReader)] = [
        ("bert_config.json", { folder, _ in try ConfigLocator.load(folder: folder) }),
        ("albert_config.json", { folder, _ in try ConfigLocator.load(folder: folder) }),
        ("hparams.json", { folder, _ in try ConfigLocator.load(folder: folder) }),
        ("xlnet_config.json", { _, path in try XLNetConfigFile(path: path, finetuningTask: nil).config }),
        ("xlnet_config.json", { _, path in try XLNetConfigFile(path: path, finetuningTask: "sts-b").config }),
        ("xlnet_config.json", { _, path in try XLNetConfigFile(path: path, finetuningTask: "squad").config }),
        ("t5_config.json", { _, path in try T5ConfigFile(path: path, modelType: "t5").config }),
        ("mt5_config.json", { _, path in try T5ConfigFile(path: path, modelType: "mt5").config }),
        ("config.json", { _, path in try TransfoXLConfigFile(path: path).config }),
    ]

    static func build(_ input: [UInt8], scratch: FuzzScratch, shelf: FuzzCheckpointShelf) throws {
        guard let selector = input.first else { throw ExportError("original-config: an empty input picks no reader") }
        let reader = readers[Int(selector) % readers.count]
        let folder = try scratch.write([(reader.fileName, input.dropFirst())])
        let config = try reader.read(folder, scratch.path(of: reader.fileName))
        try ConfigFuzzEntry.build(config, folder: folder, shelf: shelf)
    }
}
