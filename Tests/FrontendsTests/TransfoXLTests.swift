import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// Transformer-XL's config reading, its memory contract and the blocks it is built from (shapes
/// and structure; the arithmetic is checked against transformers by the parity tests).
@Suite struct TransfoXLTests {
    /// vocab 12 in clusters [0, 4), [4, 8), [8, 12) with div_val 2 (tables 8, 4, 2 wide), d_model 8, 2 heads of 4.
    static let config: [String: Any] = [
        "model_type": "transfo-xl", "vocab_size": 12, "cutoffs": [4, 8], "div_val": 2, "d_model": 8, "d_embed": 8,
        "n_head": 2, "d_head": 4, "d_inner": 16, "n_layer": 2, "mem_len": 3, "clamp_len": 2, "same_length": true,
        "untie_r": true, "tie_projs": [false, true, true],
    ]

    static func zeros(_ shape: [Int]) -> TensorData {
        TensorData(dtype: .float32, shape: shape, storage: .inline([UInt8](repeating: 0, count: 4 * shape.reduce(1, *))))
    }

    /// `TransfoXLLMHeadModel`'s tensors for `config`, tied ones left out as save_pretrained leaves them out.
    static func store(_ fields: [String: Any] = config) -> WeightStore {
        var t: [String: TensorData] = [:]
        let p = "transformer."
        for (i, (rows, width)) in [(4, 8), (4, 4), (4, 2)].enumerated() {
            t[p + "word_emb.emb_layers.\(i).weight"] = zeros([rows, width])
            t[p + "word_emb.emb_projs.\(i)"] = zeros([8, width])
            t["crit.out_layers.\(i).bias"] = zeros([rows])
        }
        t["crit.out_projs.0"] = zeros([8, 8])
        t["crit.cluster_weight"] = zeros([2, 8])
        t["crit.cluster_bias"] = zeros([2])
        for i in 0..<2 {
            let l = p + "layers.\(i)."
            t[l + "dec_attn.qkv_net.weight"] = zeros([24, 8])
            t[l + "dec_attn.r_net.weight"] = zeros([8, 8])
            t[l + "dec_attn.o_net.weight"] = zeros([8, 8])
            t[l + "dec_attn.r_w_bias"] = zeros([2, 4])
            t[l + "dec_attn.r_r_bias"] = zeros([2, 4])
            for norm in ["dec_attn.layer_norm", "pos_ff.layer_norm"] { t[l + norm + ".weight"] = zeros([8]); t[l + norm + ".bias"] = zeros([8]) }
            t[l + "pos_ff.CoreNet.0.weight"] = zeros([16, 8]); t[l + "pos_ff.CoreNet.0.bias"] = zeros([16])
            t[l + "pos_ff.CoreNet.3.weight"] = zeros([8, 16]); t[l + "pos_ff.CoreNet.3.bias"] = zeros([8])
        }
        return WeightStore(origin: "ckpt", tensors: t)
    }

    static func model(_ changes: [String: Any] = [:]) throws -> TransfoXL {
        try TransfoXL(ConfigReader(origin: "config.json", fields: config.merging(changes) { $1 }), store())
    }

    @Test func withPastTakesAndReturnsOneMemoryPerLayer() throws {
        let graph = try Self.model().graph(for: .textGenerationWithPast, name: "t")
        #expect(graph.inputs.map { graph[$0].name } == ["input_ids", "mems.0", "mems.1"])
        #expect(graph.type(of: graph.inputs[1]).shape == [MemoryTaskGraph.memoryLengthAxis, .batchSize, 8])
        #expect(graph.outputs.map { graph[$0].name } == ["logits", "new_mems.0", "new_mems.1"])
        #expect(graph.type(of: graph.outputs[0]).shape == [.batchSize, .sequenceLength, 12])
        #expect(graph.type(of: graph.outputs[1]).shape == [MemoryTaskGraph.newMemoryLengthAxis, .batchSize, 8])
    }

    @Test func withoutPastOnlyTokenIDsGoIn() throws {
        for task in [Task.featureExtraction, .textGeneration] {
            let graph = try Self.model().graph(for: task, name: "t")
            #expect(graph.inputs.map { graph[$0].name } == ["input_ids"])
        }
        let graph = try Self.model().graph(for: .featureExtraction, name: "t")
        #expect(graph.type(of: graph.outputs[0]).shape == [.batchSize, .sequenceLength, 8])
    }

    @Test func noMemoryMeansNoWithPast() throws {
        let error = #expect(throws: ExportError.self) { try Self.model(["mem_len": 0]).graph(for: .textGenerationWithPast, name: "t") }
        #expect(error?.message.contains("mem_len is 0") == true)
        _ = try Self.model(["mem_len": 0]).graph(for: .textGeneration, name: "t")
    }

    @Test func sharedBiasesComeFromTheModelNotALayer() throws {
        let error = #expect(throws: ExportError.self) { try Self.model(["untie_r": false]).graph(for: .featureExtraction, name: "t") }
        #expect(error?.message.contains("transformer.r_w_bias") == true)
    }

    @Test func hostileConfigsAreRefusedWithTheirField() {
        let cases: [([String: Any], String)] = [
            (["cutoffs": [8, 4]], "cutoffs"), (["cutoffs": [4, 12]], "cutoffs"), (["attn_type": 1], "attn_type"),
            (["mem_len": 1 << 40], "mem_len"), (["d_model": 7], "d_model"), (["div_val": 16], "div_val"),
            (["tie_projs": [false, true, true, true]], "tie_projs"), (["n_head": 1 << 62, "d_head": 8], "qkv_net"),
        ]
        for (change, field) in cases {
            let error = #expect(throws: ExportError.self) { try TransfoXLConfig(ConfigReader(origin: "c", fields: Self.config.merging(change) { $1 })) }
            #expect(error?.message.contains(field) == true, "\(change)")
        }
    }

    @Test func configReadsAliasesAndDerivedTies() throws {
        var fields = Self.config
        fields["tie_projs"] = nil
        fields["n_token"] = 20
        fields["proj_share_all_but_first"] = false
        let c = try TransfoXLConfig(ConfigReader(origin: "c", fields: fields))
        #expect(c.vocabSize == 20)
        #expect(c.tieProjections == [false, false, false])
        #expect(c.clusterEnds == [0, 4, 8, 20])
        #expect((0..<3).map(c.clusterWidth) == [8, 4, 2])
    }

    @Test func relativeShiftAndMaskKeepTheSymbolicAxes() throws {
        let b = GraphBuilder(name: "t")
        let keys = Dim.symbol("memory_length") + .sequenceLength
        let scores = b.input("s", TensorType(.float32, [.batchSize, 2, .sequenceLength, keys]))
        let shifted = try b.zeroPadRelativeShift(scores)
        #expect(b.graph.type(of: shifted) == b.graph.type(of: scores))
        let ids = b.input("ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let memory = b.input("m", TensorType(.float32, [.batchSize, .symbol("memory_length"), 8]))
        let (s, m) = (try b.scalarDimension(ids, axis: 1), try b.scalarDimension(memory, axis: 1))
        let mask = try b.segmentAttentionMask(queryLength: s, memoryLength: m, keyLength: try b.add(m, s), sameLength: 3)
        #expect(b.graph.type(of: mask) == TensorType(.bool, [.sequenceLength, keys]))
    }

    @Test func adaptiveSoftmaxCoversTheVocabulary() throws {
        let b = GraphBuilder(name: "t")
        let hidden = b.input("h", TensorType(.float32, [.batchSize, .sequenceLength, 8]))
        func cluster(_ rows: Int, _ width: Int) -> AdaptiveSoftmaxCluster {
            AdaptiveSoftmaxCluster(weight: b.literal(Self.zeros([rows, width])), bias: b.literal(Self.zeros([rows])),
                                   projection: b.literal(Self.zeros([8, width])))
        }
        let scores = try b.adaptiveLogSoftmax(hidden, head: cluster(4, 8), tails: [cluster(4, 4), cluster(5, 2)],
                                              clusterWeight: b.literal(Self.zeros([2, 8])), clusterBias: b.literal(Self.zeros([2])))
        #expect(b.graph.type(of: scores).shape == [.batchSize, .sequenceLength, 13])
        #expect(throws: ExportError.self) {
            try b.adaptiveLogSoftmax(hidden, head: cluster(4, 8), tails: [cluster(4, 4)], clusterWeight: nil, clusterBias: nil)
        }
        let plain = try b.adaptiveLogSoftmax(hidden, head: cluster(6, 8), tails: [], clusterWeight: nil, clusterBias: nil)
        #expect(b.graph.type(of: plain).shape == [.batchSize, .sequenceLength, 6])
    }

    @Test func oneEmbeddingClusterIsAPlainLookup() throws {
        let b = GraphBuilder(name: "t")
        let ids = b.input("ids", TensorType(.int64, [.batchSize, .sequenceLength]))
        let single = AdaptiveEmbeddingCluster(start: 0, end: 12, table: b.literal(Self.zeros([12, 4])), projection: b.literal(Self.zeros([8, 4])))
        let embedded = try b.adaptiveEmbedding(ids, clusters: [single], scale: 2)
        #expect(b.graph.nodes.map(\.op.kind) == ["Gather", "MatMulTransposed", "Mul"])
        #expect(b.graph.type(of: embedded).shape == [.batchSize, .sequenceLength, 8])
        let split = [AdaptiveEmbeddingCluster(start: 0, end: 4, table: b.literal(Self.zeros([4, 8])), projection: nil),
                     AdaptiveEmbeddingCluster(start: 4, end: 12, table: b.literal(Self.zeros([8, 2])), projection: b.literal(Self.zeros([8, 2])))]
        let clustered = try b.adaptiveEmbedding(ids, clusters: split, scale: 2)
        #expect(b.graph.type(of: clustered).shape == [.batchSize, .sequenceLength, 8])
        #expect(b.graph.nodes.filter { $0.op == .where }.count == 4)  // a local index and a selection per cluster
    }
}
