import Foundation
import ONNXExportIR

/// The config target's run: `config.json` read as an export reads it, the architecture's model
/// built from it with the weights of a committed fixture of the same `model_type` (where numbers
/// from the config meet arithmetic: head sizes, products, rope tables), and the graph of the
/// fixture's task built and put through the pass pipeline the exporter runs.
enum ConfigFuzzEntry {
    static func build(folder: String, shelf: FuzzCheckpointShelf) throws {
        try build(try ConfigLocator.load(folder: folder), folder: folder, shelf: shelf)
    }

    /// The model of `config` built as above (`folder` names an empty store's origin).
    static func build(_ config: ConfigReader, folder: String, shelf: FuzzCheckpointShelf) throws {
        let modelType = try config.string("model_type")
        let entry = try ArchitectureRegistry.entry(for: modelType, origin: config.origin)
        let fixture = try shelf.checkpoint(for: modelType)
        let weights = fixture?.weights ?? WeightStore(origin: folder, tensors: [:])
        let model = try entry.make(config, weights)
        guard let task = fixture?.task.flatMap({ entry.tasks.contains($0) ? $0 : nil }) ?? entry.tasks.first else { return }
        for part in try model.parts(for: task, name: "\(modelType)-\(task.rawValue)") {
            for graph in part.graphs {
                try LabelCount.require(graph, task: task, config: config)
                _ = try PassPipeline.run(graph)
            }
        }
    }
}

/// Committed fixture checkpoints by `model_type`, for the config target: the first folder (in
/// the order given) whose `config.json` names a type supplies its weights for every config of
/// that type. Headers are read once, on first use.
public final class FuzzCheckpointShelf {
    public struct Fixture {
        public let weights: WeightStore
        /// The task the fixture was saved for (its folder's name), when it is one.
        public let task: Task?
    }

    private var folderOfType: [String: String] = [:]
    private var opened: [String: Fixture] = [:]

    /// An empty shelf: configs are built against no weights (and stop at the first weight).
    public init() {}

    /// `folders`: checkpoint folders holding `config.json` and weights.
    public init(folders: [String]) {
        for folder in folders {
            guard let config = try? ConfigLocator.load(folder: folder), let type = try? config.string("model_type"),
                  folderOfType[type] == nil else { continue }
            folderOfType[type] = folder
        }
    }

    /// Every checkpoint folder (holding a `config.json`) at most three levels under `root`
    /// (`Tests/Fixtures`), in sorted order.
    public convenience init(fixturesRoot root: String) {
        var folders: [String] = []
        var level = [root]
        for _ in 0..<3 {
            level = level.flatMap { folder in
                ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { folder + "/" + $0 }
                    .filter(Self.isFolder)
            }
            folders += level.filter { FileManager.default.fileExists(atPath: $0 + "/config.json") }
        }
        self.init(folders: folders.sorted())
    }

    /// The folders the shelf uses, one per model type, for seeding the config corpus.
    public var folders: [String] { folderOfType.values.sorted() }

    private static func isFolder(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// Opens every fixture now rather than on first use (see `FuzzSession`: LeakSanitizer must
    /// not watch the allocations of this cache).
    public func openAll() throws {
        for type in folderOfType.keys.sorted() { _ = try checkpoint(for: type) }
    }

    func checkpoint(for modelType: String) throws -> Fixture? {
        if let done = opened[modelType] { return done }
        guard let folder = folderOfType[modelType] else { return nil }
        let (_, store) = try WeightFormat.open(folder: folder)
        let name = folder.split(separator: "/").last.map(String.init) ?? ""
        let fixture = Fixture(weights: store, task: try? Task(name: name))
        opened[modelType] = fixture
        return fixture
    }
}
