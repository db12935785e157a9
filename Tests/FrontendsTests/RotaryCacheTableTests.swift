import Foundation
import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

/// GroupQueryAttention's rotary tables, computed while they stream.
@Suite struct RotaryCacheTableTests {
    @Test func rowsSpanningChunksHoldEveryPositionsAngles() throws {
        // 3 frequencies: 65536 / 3 rows per chunk, so 50000 positions take three chunks.
        let frequencies: [Float] = [1, 0.01, 1e-4], positions = 50_000
        let table = try RotaryCacheTable.tensor(.sin, frequencies: frequencies, scaling: 0.5, positions: positions)
        #expect(table.shape == [positions, 3] && table.byteCount == positions * 3 * 4)
        let values = try table.materialize().withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(values.count == positions * 3)
        for p in [0, 1, 21_845, 21_846, 49_999] {
            for (i, f) in frequencies.enumerated() {
                #expect(values[p * 3 + i] == Foundation.sin(Float(p) * f) * 0.5)
            }
        }
    }

    @Test func equalTablesShareAnIdentityAndCosDiffersFromSin() throws {
        let a = try RotaryCacheTable.tensor(.cos, frequencies: [1, 0.5], scaling: 1, positions: 8)
        #expect(a == (try RotaryCacheTable.tensor(.cos, frequencies: [1, 0.5], scaling: 1, positions: 8)))
        #expect(a != (try RotaryCacheTable.tensor(.sin, frequencies: [1, 0.5], scaling: 1, positions: 8)))
        #expect(a != (try RotaryCacheTable.tensor(.cos, frequencies: [1, 0.5], scaling: 2, positions: 8)))
    }
}
