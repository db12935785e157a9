import Foundation
import ONNXExportIR

/// Rotary position embedding parameters, computed at export time the way transformers'
/// `modeling_rope_utils.py` computes them (in float32), so the graph only multiplies positions by
/// a constant table of inverse frequencies.
public struct RotaryConfig: Sendable {
    public var inverseFrequencies: [Float]
    /// Multiplies cos and sin (1 for the rope types supported here).
    public var attentionScaling: Float = 1

    /// Channels of each head that rotate (`partial_rotary_factor` · head size).
    public var width: Int { inverseFrequencies.count * 2 }

    /// Reads `rope_parameters` (transformers 5) or `rope_theta` + `rope_scaling` (earlier configs).
    /// `dynamic` scaling only changes the frequencies past `original_max_position_embeddings`, so
    /// within that length the default table is exact; longer inputs would differ (documented).
    public init(_ c: ConfigReader, headSize: Int, defaultTheta: Double = 10000) throws {
        // transformers 5 (`modeling_rope_utils.py`): a legacy `rope_scaling` replaces
        // `rope_parameters`; theta comes from the dict, else the top level, else 10000.
        let source = try c.object("rope_scaling") ?? c.object("rope_parameters")
        let theta = try source?.optionalDouble("rope_theta") ?? c.optionalDouble("rope_theta") ?? defaultTheta
        let partial = try source?.optionalDouble("partial_rotary_factor") ?? c.optionalDouble("partial_rotary_factor") ?? 1
        // Checked before the conversion: Int() of a non-finite or out-of-range Double traps.
        guard partial.isFinite, partial > 0, partial <= 1 else {
            throw ExportError("\(c.origin): partial_rotary_factor must be in (0, 1], found \(partial)")
        }
        let width = Int(Double(headSize) * partial)
        guard width >= 2, width % 2 == 0, width <= headSize else {
            throw ExportError("\(c.origin): rotary width \(width) (head size \(headSize) × partial_rotary_factor \(partial)) must be even and at most the head size")
        }
        let dim = Float(width)
        var inverse = stride(from: 0, to: width, by: 2).map { i in Float(1) / powf(Float(theta), Float(i) / dim) }

        let ropeType = try source.flatMap { try $0.optionalString("rope_type") ?? $0.optionalString("type") } ?? "default"
        switch ropeType {
        case "default", "dynamic":
            break
        case "linear":
            let factor = Float(try source?.double("factor") ?? 1)
            inverse = inverse.map { $0 / factor }
        case "llama3":
            guard let s = source else { break }
            inverse = Self.llama3(inverse, factor: Float(try s.double("factor")), low: Float(try s.double("low_freq_factor")),
                                  high: Float(try s.double("high_freq_factor")),
                                  originalLength: Float(try s.double("original_max_position_embeddings")))
        default:
            throw ExportError("\(c.origin): rope type \"\(ropeType)\" is not supported (default, linear, dynamic, llama3)")
        }
        inverseFrequencies = inverse
    }

    /// transformers `_compute_llama3_parameters`: long wavelengths are divided by `factor`, short
    /// ones kept, the band between interpolated smoothly.
    static func llama3(_ inverse: [Float], factor: Float, low: Float, high: Float, originalLength: Float) -> [Float] {
        let lowWavelength = originalLength / low
        let highWavelength = originalLength / high
        return inverse.map { f in
            let wavelength = 2 * Float.pi / f
            let scaled = wavelength > lowWavelength ? f / factor : f
            let smooth = (originalLength / wavelength - low) / (high - low)
            let smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            let medium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
            return medium ? smoothed : scaled
        }
    }
}

extension GraphBuilder {
    /// cos and sin tables `[B, 1, S, width]` for `position_ids` `[B, S]`: angles
    /// `position · inverse frequency`, duplicated as `cat(freqs, freqs)` like transformers.
    public func rotaryTables(positionIDs: Value, _ rope: RotaryConfig) throws -> (cos: Value, sin: Value) {
        try scope("rotary_emb") {
            let positions = try unsqueeze(try cast(positionIDs, to: .float32), [-1])
            let frequencies = try mul(positions, literal(.float32(rope.inverseFrequencies)))
            let angles = try node(.concat(axis: -1), frequencies, frequencies)
            var cos = try node(.cos, angles), sin = try node(.sin, angles)
            if rope.attentionScaling != 1 {
                cos = try mul(cos, scalar(rope.attentionScaling))
                sin = try mul(sin, scalar(rope.attentionScaling))
            }
            return (try unsqueeze(cos, [1]), try unsqueeze(sin, [1]))
        }
    }
}
