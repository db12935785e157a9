import ONNXExportIR

/// One model file of a bundle: its file name in the folder and the lowered model.
public struct BundleFile {
    public var fileName: String
    public var model: ONNXModelSpec
    public init(fileName: String, model: ONNXModelSpec) { self.fileName = fileName; self.model = model }
}

/// What `ONNXSerializer.write(bundle:)` produced: the model files, and the one data file they
/// share (nil when every tensor is inline).
public struct BundleReport: Sendable {
    public var models: [(path: String, bytes: Int)]
    public var dataPath: String?
    public var dataBytes: Int
    public var externalTensorCount: Int
    public init(models: [(path: String, bytes: Int)], dataPath: String?, dataBytes: Int, externalTensorCount: Int) {
        self.models = models; self.dataPath = dataPath; self.dataBytes = dataBytes; self.externalTensorCount = externalTensorCount
    }
}

extension ONNXSerializer {
    /// Writes several models that read the same weights (an encoder-decoder's encoder, decoder,
    /// decoder with past, merged decoder) into one folder, each weight stored once: every file
    /// names its tensors at their offsets in one shared data file (`options.dataFileName`), so
    /// the folder is about the size of the checkpoint. onnxruntime resolves each `location`
    /// against the model file's folder, so the files must stay together.
    ///
    /// With `externalData == .never` every file holds its own copy of the weights inline (each
    /// under protobuf's 2 GiB limit); otherwise tensors of at least `inlineThreshold` bytes go to
    /// the shared file whatever the size. Files are staged, checked and renamed as `write` does,
    /// the data file first.
    public static func write(bundle files: [BundleFile], toDirectory directory: String, options: SerializeOptions) throws -> BundleReport {
        try options.validate()
        let names = files.map(\.fileName)
        for name in names {
            var single = options
            single.modelFileName = name
            try single.validate()
        }
        guard Set(names).count == names.count, !files.isEmpty else {
            throw ExportError("a bundle needs distinct model file names, got \(names)")
        }
        let shared = options.externalData == .never ? nil : DataPlacement(fileName: options.dataFileName, alignment: options.alignment)
        let plans = try files.map { try prepare($0.model, options: options, placement: shared, forceExternal: shared != nil) }
        let token = StagedFile.makeToken()
        let staged = names.map { StagedFile(directory: directory, name: $0, token: token) }
        let dataFile = StagedFile(directory: directory, name: options.dataFileName, token: token)
        let usesData = (shared?.slots.count ?? 0) > 0
        let meter = options.progress
        meter?.begin(total: plans.reduce(shared?.payloadBytes ?? 0) { $0 + $1.inlinePayloadBytes },
                     file: (usesData ? dataFile : staged.first ?? dataFile).fileName)
        let verifier = SourceVerifier((shared?.slots.map(\.data) ?? []) + plans.flatMap { $0.entries.map(\.spec.data) })
        do {
            if let shared, usesData { try SplicedWriter.writeData(shared, to: dataFile, meter: meter) }
            for (plan, file) in zip(plans, staged) { try SplicedWriter.writeModel(plan, to: file, meter: meter) }
            try verifier.finish()
            if usesData { try dataFile.commit() } else { try StagedFile.removeStale(dataFile.finalPath) }
            for file in staged { try file.commit() }
        } catch {
            for file in staged { file.discard() }
            dataFile.discard()
            throw staged.reduce(dataFile.naming(error)) { $1.naming($0) }
        }
        return BundleReport(models: zip(staged, plans).map { ($0.finalPath, $1.modelBytes) },
                            dataPath: usesData ? dataFile.finalPath : nil, dataBytes: usesData ? shared?.byteCount ?? 0 : 0,
                            externalTensorCount: shared?.slots.count ?? 0)
    }
}
