import Foundation
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
        #expect(throws: ExportError.self) { try RotaryConfig(config(["rope_scaling": ["rope_type": "proportional", "factor": 2.0]]), headSize: 8) }
        #expect(throws: ExportError.self) { try RotaryConfig(config(["partial_rotary_factor": 0.3]), headSize: 10) }
    }

    /// A factor whose product with the head size is no Int used to trap in the conversion.
    @Test func outOfRangePartialFactorsAreRefusedNotTrapped() {
        for factor in [1e300, -1e300, 0.0, 1.5] {
            #expect(throws: ExportError.self) { try RotaryConfig(config(["partial_rotary_factor": factor]), headSize: 8) }
        }
    }

    /// YaRN with theta 10000, width 16 and original length 2048: the correction range is dims 2...6
    /// (a ramp from 0 at dim 2 to 1 at dim 6), so the three fastest frequencies are kept, the two
    /// slowest divided by the factor, the three between blended.
    @Test func yarnKeepsFastDimensionsAndInterpolatesSlowOnes() throws {
        let parameters: [String: Any] = ["type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048]
        let plain = try RotaryConfig(config(["rope_theta": 10000.0]), headSize: 16)
        let yarn = try RotaryConfig(config(["rope_theta": 10000.0, "rope_scaling": parameters]), headSize: 16)
        let (p, y) = (plain.inverseFrequencies, yarn.inverseFrequencies)
        #expect(y[0] == p[0] && y[1] == p[1] && y[2] == p[2])
        #expect(abs(y[6] - p[6] / 4) <= p[6] * 1e-6 && abs(y[7] - p[7] / 4) <= p[7] * 1e-6)
        #expect((3...5).allSatisfy { y[$0] < p[$0] && y[$0] > p[$0] / 4 })
        #expect(abs(yarn.attentionScaling - Float(0.1 * log(4.0) + 1)) < 1e-7)
        // mscale and mscale_all_dim together: the ratio of the two terms (1 when they are equal).
        let ratio = try RotaryConfig(config(["rope_scaling": parameters.merging(["mscale": 1.0, "mscale_all_dim": 1.0]) { $1 }]), headSize: 16)
        #expect(ratio.attentionScaling == 1)
        // truncate false (or null, falsy in Python) keeps the fractional correction range 2.02...5.03.
        let untruncated = try RotaryConfig(config(["rope_scaling": parameters.merging(["truncate": false]) { $1 }]), headSize: 16)
        let null = try RotaryConfig(config(["rope_scaling": parameters.merging(["truncate": NSNull()]) { $1 }]), headSize: 16)
        #expect(untruncated.inverseFrequencies[3] != y[3] && null.inverseFrequencies == untruncated.inverseFrequencies)
    }

    /// longrope picks its table by length; Phi-3 reads the legacy "su" as longrope and its top-level
    /// original_max_position_embeddings (default 4096) over the rope dict's.
    @Test func longropeSwitchesTablesAndPhi3ReadsItsSpellings() throws {
        let factors: [String: Any] = ["type": "su", "short_factor": [1.0, 2.0], "long_factor": [3.0, 4.0], "original_max_position_embeddings": 16]
        let phi3 = RopeConventions(typeAliases: ["su": "longrope"], defaultOriginalLength: 4096)
        let rope = try RotaryConfig(config(["max_position_embeddings": 131072, "rope_scaling": factors]), headSize: 4, conventions: phi3)
        let plain = try RotaryConfig(config([:]), headSize: 4)
        guard case .lengthSwitched(let short, let long, let original) = rope.frequencies else {
            Issue.record("longrope gave \(rope.frequencies)"); return
        }
        #expect(original == 4096)
        #expect(short == [plain.inverseFrequencies[0], plain.inverseFrequencies[1] / 2])
        #expect(long == [plain.inverseFrequencies[0] / 3, plain.inverseFrequencies[1] / 4])
        #expect(abs(rope.attentionScaling - Float((1 + log(32.0) / log(4096.0)).squareRoot())) < 1e-7)
        // Without the Phi-3 conventions "su" is unknown; a top-level length wins over the dict's.
        #expect(throws: ExportError.self) { try RotaryConfig(config(["max_position_embeddings": 64, "rope_scaling": factors]), headSize: 4) }
        var spelled = factors; spelled["type"] = "longrope"
        let llama = try RotaryConfig(config(["max_position_embeddings": 64, "original_max_position_embeddings": 8, "rope_scaling": spelled]), headSize: 4)
        guard case .lengthSwitched(_, _, 8) = llama.frequencies else { Issue.record("\(llama.frequencies)"); return }
    }

    @Test func scalingParametersThatWouldPoisonTheTablesAreRefused() {
        let cases: [[String: Any]] = [
            ["type": "longrope", "short_factor": [1.0], "long_factor": [1.0, 2.0]],          // width 4 needs 2
            ["type": "longrope", "short_factor": [1.0, 0.0], "long_factor": [1.0, 2.0]],     // zero factor
            ["type": "longrope", "short_factor": [1.0, "x"], "long_factor": [1.0, 2.0]],     // not a number
            ["type": "yarn", "factor": -2.0, "original_max_position_embeddings": 16],
            ["type": "dynamic", "factor": 0.0],
            ["type": "linear", "factor": 0.0],
        ]
        for scaling in cases {
            #expect(throws: ExportError.self) { try RotaryConfig(config(["max_position_embeddings": 64, "rope_scaling": scaling]), headSize: 4) }
        }
        #expect(throws: ExportError.self) { try RotaryConfig(config(["rope_theta": 0.0]), headSize: 4) }
    }

    @Test func dynamicKeepsTheDefaultTableAndItsLimit() throws {
        let rope = try RotaryConfig(config(["max_position_embeddings": 8, "rope_scaling": ["type": "dynamic", "factor": 3.0]]), headSize: 8)
        let plain = try RotaryConfig(config([:]), headSize: 8)
        guard case .dynamicNTK(let base, let theta, let factor, let limit) = rope.frequencies else { Issue.record("\(rope.frequencies)"); return }
        #expect(base == plain.inverseFrequencies && theta == 10000 && factor == 3 && limit == 8)
    }
}
