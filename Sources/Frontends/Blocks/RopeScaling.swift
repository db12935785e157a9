import Foundation

/// The inverse-frequency formulas of transformers' `modeling_rope_utils.py` for the scaled rope
/// types, each written in the same float32 operations in the same order as PyTorch evaluates them,
/// so the tables match bit for bit (where PyTorch divides a float32 tensor by a Python number, the
/// number is rounded to float32 first, as here).
enum RopeScaling {
    /// `_compute_llama3_parameters`: long wavelengths are divided by `factor`, short ones kept,
    /// the band between interpolated smoothly.
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

    /// `_compute_yarn_parameters`' frequencies: dimensions that turn fewer than `betaSlow` times
    /// over the original length are interpolated (divided by `factor`), those that turn more than
    /// `betaFast` times are kept, and a linear ramp blends the ones between.
    /// `powers` are `theta^(2i / width)`, the default table's denominators.
    static func yarn(powers: [Float], theta: Double, factor: Double, originalLength: Int,
                     betaFast: Double, betaSlow: Double, truncate: Bool) -> [Float] {
        let width = Double(powers.count * 2)
        func correctionDimension(_ rotations: Double) -> Double {
            (width * log(Double(originalLength) / (rotations * 2 * Double.pi))) / (2 * log(theta))
        }
        var low = correctionDimension(betaFast), high = correctionDimension(betaSlow)
        if truncate { low = low.rounded(.down); high = high.rounded(.up) }
        low = max(low, 0)
        high = min(high, width - 1)
        if low == high { high += 0.001 }  // transformers' guard against a zero-width ramp
        let lowFloat = Float(low), span = Float(high - low), scale = Float(factor)
        return powers.enumerated().map { i, power in
            let ramp = min(max((Float(i) - lowFloat) / span, 0), 1)
            let extrapolationWeight = 1 - ramp
            let extrapolated = 1 / power
            let interpolated = 1 / (scale * power)
            return interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight
        }
    }

    /// yarn's cos/sin multiplier when the config gives no `attention_factor`: `0.1 ln(factor) + 1`,
    /// or with both `mscale` and `mscale_all_dim` the ratio of the two such terms.
    static func yarnAttentionFactor(factor: Double, mscale: Double?, mscaleAllDim: Double?) -> Double {
        func term(_ m: Double) -> Double { factor <= 1 ? 1 : 0.1 * m * log(factor) + 1 }
        if let mscale, let mscaleAllDim, mscale != 0, mscaleAllDim != 0 { return term(mscale) / term(mscaleAllDim) }
        return term(1)
    }

    /// `_compute_longrope_parameters`' frequencies for one factor list: `1 / (factor_i · power_i)`.
    static func longrope(powers: [Float], factors: [Double]) -> [Float] {
        zip(powers, factors).map { power, factor in 1 / (Float(factor) * power) }
    }

    /// longrope's cos/sin multiplier when the config gives no `attention_factor`:
    /// `√(1 + ln(factor) / ln(original length))`, 1 when the context was not extended.
    static func longropeAttentionFactor(factor: Double, originalLength: Int) -> Double {
        factor <= 1 ? 1 : (1 + log(factor) / log(Double(originalLength))).squareRoot()
    }
}
