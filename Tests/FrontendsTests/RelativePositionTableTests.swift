import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// The relative-position tables against values transformers computes (torch 2.13, float32):
/// MPNet's `relative_position_bucket` and DeBERTa-v2's `make_log_bucket_position`.
@Suite struct RelativePositionTableTests {
    func value(_ t: RelativePositionTable, _ d: Int) -> Int64 { t.values[min(max(d, -t.limit), t.limit) + t.limit] }

    /// `MPNetEncoder.relative_position_bucket(key − query)`: exact up to 7, log buckets past it,
    /// with the exact float32 boundaries at 16 (bucket 10) and 32 (12); keys after the query
    /// add 16; 15 from distance 128 on.
    @Test func mpnetBucketsMatchTransformers() throws {
        let t = try RelativePositionTable.t5(bidirectional: true, buckets: 32, maxDistance: 128, origin: "t")
        #expect(t.limit == 128)
        let expected: [(Int, Int64)] = [(0, 0), (-1, 1), (-7, 7), (-8, 8), (-15, 9), (-16, 10), (-31, 11), (-32, 12), (-63, 13),
                                        (-64, 14), (-127, 15), (-128, 15), (-5000, 15), (1, 17), (16, 26), (32, 28), (129, 31)]
        for (d, bucket) in expected { #expect(value(t, d) == bucket, "distance \(d)") }
    }

    /// T5's causal form: future keys share bucket 0, the past fills all 32 buckets.
    @Test func causalBucketsIgnoreTheFuture() throws {
        let t = try RelativePositionTable.t5(bidirectional: false, buckets: 32, maxDistance: 128, origin: "t")
        #expect(value(t, 5) == 0 && value(t, 0) == 0)
        #expect(value(t, -15) == 15 && value(t, -16) == 16 && value(t, -1000) == 31)
    }

    /// DeBERTa-v3 (256 buckets, 512 positions) for `q − k`: kept within ±128, log-spaced beyond,
    /// shifted by the span 256 and clamped to [0, 511]. p2c's index (`−bucket + span`) is the
    /// table at `−d`, which the graph reads by transposing: the second expectation.
    @Test func debertaLogBucketsMatchTransformers() throws {
        let c2p = try RelativePositionTable.deberta(bucketSize: 256, maxPosition: 512, span: 256, origin: "t")
        // make_log_bucket_position(d, 256, 512): 128 → 128, 129 → 129, 200 → 169, 511 → 255, 512 → 256, 4000 → 444.
        let buckets: [(Int, Int)] = [(0, 0), (5, 5), (128, 128), (129, 129), (200, 169), (511, 255), (512, 256), (4000, 444)]
        for (d, b) in buckets {
            #expect(value(c2p, d) == Int64(min(max(b + 256, 0), 511)), "c2p \(d)")
            #expect(value(c2p, -d) == Int64(min(max(-b + 256, 0), 511)), "c2p \(-d), p2c \(d)")
        }
    }

    /// Without buckets the distance is only clamped by the span.
    @Test func debertaWithoutBucketsClampsTheDistance() throws {
        let t = try RelativePositionTable.deberta(bucketSize: -1, maxPosition: 6, span: 6, origin: "t")
        #expect([-100, -6, -5, 0, 5, 6, 100].map { value(t, $0) } == [0, 0, 1, 6, 11, 11, 11])
    }

    @Test func degenerateAndHugeConfigsAreRefused() {
        #expect(throws: ExportError.self) { try RelativePositionTable.t5(bidirectional: true, buckets: 32, maxDistance: 4, origin: "t") }
        #expect(throws: ExportError.self) { try RelativePositionTable.deberta(bucketSize: 256, maxPosition: 64, span: 256, origin: "t") }
        #expect(throws: ExportError.self) { try RelativePositionTable.deberta(bucketSize: -1, maxPosition: 1 << 40, span: 1 << 40, origin: "t") }
    }

    /// ALBERT's `int(i / (layers / groups))`: 5 layers in 2 groups run 0, 0, 0, 1, 1.
    @Test func albertLayersRunTheirGroups() {
        #expect((0..<5).map { ALBERT.group(ofLayer: $0, layers: 5, groups: 2) } == [0, 0, 0, 1, 1])
        #expect((0..<12).map { ALBERT.group(ofLayer: $0, layers: 12, groups: 1) } == Array(repeating: 0, count: 12))
        #expect((0..<4).map { ALBERT.group(ofLayer: $0, layers: 4, groups: 4) } == [0, 1, 2, 3])
    }
}
