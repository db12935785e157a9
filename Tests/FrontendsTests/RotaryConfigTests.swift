import Testing
@testable import ONNXExportFrontends
import ONNXExportIR

@Suite struct RotaryConfigTests {
    func config(_ fields: [String: Any]) -> ConfigReader { ConfigReader(origin: "config.json", fields: fields) }

    @Test func defaultFrequenciesFollowTheta() throws {
        let rope = try RotaryConfig(config(["rope_theta": 10000.0]), headSize: 8)
        #expect(rope.width == 8)
        #expect(rope.inverseFrequencies[0] == 1)
        #expect(abs(rope.inverseFrequencies[2] - 0.01) < 1e-7)
    }

    @Test func linearScalingDividesEveryFrequency() throws {
        let plain = try RotaryConfig(config([:]), headSize: 8)
        let scaled = try RotaryConfig(config(["rope_scaling": ["rope_type": "linear", "factor": 4.0]]), headSize: 8)
        #expect(zip(plain.inverseFrequencies, scaled.inverseFrequencies).allSatisfy { $0 / 4 == $1 })
        let v5 = try RotaryConfig(config(["rope_parameters": ["rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0]]), headSize: 8)
        #expect(v5.inverseFrequencies == scaled.inverseFrequencies)
    }

    @Test func llama3KeepsShortWavelengthsAndScalesLongOnes() throws {
        let parameters: [String: Any] = ["rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                         "original_max_position_embeddings": 32, "rope_theta": 10000.0]
        let plain = try RotaryConfig(config([:]), headSize: 16)
        let scaled = try RotaryConfig(config(["rope_parameters": parameters]), headSize: 16)
        #expect(scaled.inverseFrequencies.first == plain.inverseFrequencies.first)     // wavelength 2π < 8: kept
        #expect(scaled.inverseFrequencies.last == plain.inverseFrequencies.last! / 8)  // wavelength > 32: divided
    }

    @Test func partialRotaryAndUnknownTypes() throws {
        #expect(try RotaryConfig(config(["partial_rotary_factor": 0.5]), headSize: 16).width == 8)
        #expect(throws: ExportError.self) { try RotaryConfig(config(["rope_scaling": ["rope_type": "yarn", "factor": 2.0]]), headSize: 8) }
        #expect(throws: ExportError.self) { try RotaryConfig(config(["partial_rotary_factor": 0.3]), headSize: 10) }
    }

    /// A factor whose product with the head size is no Int used to trap in the conversion.
    @Test func outOfRangePartialFactorsAreRefusedNotTrapped() {
        for factor in [1e300, -1e300, 0.0, 1.5] {
            #expect(throws: ExportError.self) { try RotaryConfig(config(["partial_rotary_factor": factor]), headSize: 8) }
        }
    }
}
