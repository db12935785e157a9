import Foundation
import ONNXExportIR

/// How an architecture's config class reads rope scaling, where it departs from LLaMA's.
public struct RopeConventions: Sendable {
    /// Rope types that mean another (Phi-3: its legacy "su" and "yarn" are longrope).
    public var typeAliases: [String: String] = [:]
    /// The config class's `original_max_position_embeddings` when the file has none (Phi-3: 4096).
    /// Where the class has the attribute, transformers lets it override the rope dict's value.
    public var defaultOriginalLength: Int? = nil

    public init(typeAliases: [String: String] = [:], defaultOriginalLength: Int? = nil) {
        self.typeAliases = typeAliases
        self.defaultOriginalLength = defaultOriginalLength
    }
}

/// Rotary position embedding parameters, computed at export time the way transformers'
/// `modeling_rope_utils.py` computes them (in float32), so the graph only multiplies positions by
/// a table of inverse frequencies; for the two rope types whose table depends on the input length
/// (`dynamic`, `longrope`) the graph picks or computes it from that length, as transformers'
/// `dynamic_rope_update` does on every forward pass.
public struct RotaryConfig: Sendable {
    /// Where the inverse frequencies come from.
    public enum Frequencies: Sendable, Equatable {
        /// One table for every input.
        case fixed([Float])
        /// longrope: `short` while `max(position_ids) + 1 ≤ originalLength`, else `long`, one
        /// choice for the whole batch.
        case lengthSwitched(short: [Float], long: [Float], originalLength: Int)
        /// Dynamic NTK: `base` while `max(position_ids) + 1 ≤ maxPositions`; past it theta grows
        /// with that length, `theta · (factor · length / maxPositions − (factor − 1))^(w / (w − 2))`.
        case dynamicNTK(base: [Float], theta: Double, factor: Double, maxPositions: Int)
    }

    public var frequencies: Frequencies
    /// Multiplies cos and sin (yarn's and longrope's attention factor; 1 otherwise).
    public var attentionScaling: Float = 1
    /// Channels of each head that rotate (`partial_rotary_factor` · head size).
    public let width: Int

    /// `2i / width` for each rotating pair, in float32 as torch computes `arange(0, dim, 2).float() / dim`:
    /// the exponents of theta in every table, at export and (dynamic NTK) in the graph.
    static func exponents(width: Int) -> [Float] {
        stride(from: 0, to: width, by: 2).map { Float($0) / Float(width) }
    }

    /// The table for inputs within the original length.
    public var inverseFrequencies: [Float] {
        switch frequencies {
        case .fixed(let table), .lengthSwitched(let table, _, _), .dynamicNTK(let table, _, _, _): return table
        }
    }

    /// Reads `rope_parameters` (transformers 5) or `rope_theta` + `rope_scaling` (earlier configs).
    public init(_ c: ConfigReader, headSize: Int, defaultTheta: Double = 10000, conventions: RopeConventions = .init()) throws {
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
        guard theta.isFinite, theta > 0 else { throw ExportError("\(c.origin): rope_theta must be a positive number, found \(theta)") }
        self.width = width
        let powers = Self.exponents(width: width).map { powf(Float(theta), $0) }
        let base = powers.map { 1 / $0 }

        let written = try source.flatMap { try $0.optionalString("rope_type") ?? $0.optionalString("type") } ?? "default"
        let ropeType = conventions.typeAliases[written] ?? written
        guard let s = source, ropeType != "default" else {
            frequencies = .fixed(base)
            return
        }
        /// A scaling factor: finite and positive, or the tables would be infinities and NaNs.
        func positive(_ value: Double, _ key: String) throws -> Double {
            guard value.isFinite, value > 0 else { throw ExportError("\(s.origin): '\(key)' must be a positive number, found \(value)") }
            return value
        }
        /// transformers 5's `standardize_rope_params`: a top-level `original_max_position_embeddings`
        /// (or the config class's own) wins over the rope dict's, which wins over `max_position_embeddings`.
        func originalLength() throws -> Int {
            let length = try c.optionalInt("original_max_position_embeddings") ?? conventions.defaultOriginalLength
                ?? s.optionalInt("original_max_position_embeddings") ?? c.positiveInt("max_position_embeddings")
            guard length > 1 else { throw ExportError("\(c.origin): original_max_position_embeddings must be above 1, found \(length)") }
            return length
        }
        /// yarn's and longrope's `factor`: the dict's, else how far the context was extended.
        func scalingFactor(original: Int) throws -> Double {
            if let factor = try s.optionalDouble("factor") { return try positive(factor, "factor") }
            return Double(try c.positiveInt("max_position_embeddings")) / Double(original)
        }

        switch ropeType {
        case "linear":
            let factor = Float(try positive(s.double("factor", default: 1), "factor"))
            frequencies = .fixed(base.map { $0 / factor })
        case "dynamic":
            guard width > 2 else { throw ExportError("\(c.origin): dynamic rope scaling needs a rotary width above 2, found \(width)") }
            frequencies = .dynamicNTK(base: base, theta: theta, factor: try positive(s.double("factor"), "factor"),
                                      maxPositions: try c.positiveInt("max_position_embeddings"))
        case "llama3":
            let original = try originalLength()
            frequencies = .fixed(RopeScaling.llama3(base, factor: Float(try positive(s.double("factor"), "factor")),
                                                    low: Float(try positive(s.double("low_freq_factor"), "low_freq_factor")),
                                                    high: Float(try positive(s.double("high_freq_factor"), "high_freq_factor")),
                                                    originalLength: Float(original)))
        case "yarn":
            let original = try originalLength()
            let factor = try scalingFactor(original: original)
            // Python's `get(key) or default`: null and 0 take the default; an explicit null
            // `truncate` is falsy there, so it means no truncation.
            let betaFast = try s.optionalDouble("beta_fast").flatMap { $0 == 0 ? nil : $0 } ?? 32
            let betaSlow = try s.optionalDouble("beta_slow").flatMap { $0 == 0 ? nil : $0 } ?? 1
            frequencies = .fixed(RopeScaling.yarn(powers: powers, theta: theta, factor: factor, originalLength: original,
                                                  betaFast: try positive(betaFast, "beta_fast"), betaSlow: try positive(betaSlow, "beta_slow"),
                                                  truncate: s.fields["truncate"] is NSNull ? false : try s.bool("truncate", default: true)))
            let attention = try s.optionalDouble("attention_factor")
                ?? RopeScaling.yarnAttentionFactor(factor: factor, mscale: try s.optionalDouble("mscale"),
                                                   mscaleAllDim: try s.optionalDouble("mscale_all_dim"))
            attentionScaling = Float(attention)
        case "longrope":
            let original = try originalLength()
            func factors(_ key: String) throws -> [Double] {
                let list = try s.doubles(key)
                guard list.count == width / 2 else {
                    throw ExportError("\(s.origin): '\(key)' has \(list.count) numbers; the rotary width \(width) needs \(width / 2)")
                }
                return try list.map { try positive($0, key) }
            }
            frequencies = .lengthSwitched(short: RopeScaling.longrope(powers: powers, factors: try factors("short_factor")),
                                          long: RopeScaling.longrope(powers: powers, factors: try factors("long_factor")),
                                          originalLength: original)
            let attention = try s.optionalDouble("attention_factor")
                ?? RopeScaling.longropeAttentionFactor(factor: try scalingFactor(original: original), originalLength: original)
            attentionScaling = Float(attention)
        default:
            throw ExportError("\(c.origin): rope type \"\(ropeType)\" is not supported (default, linear, dynamic, llama3, yarn, longrope)")
        }
        guard attentionScaling.isFinite else { throw ExportError("\(s.origin): attention_factor must be finite") }
    }
}

extension GraphBuilder {
    /// cos and sin tables `[B, 1, S, width]` for `position_ids` `[B, S]`: angles
    /// `position · inverse frequency`, duplicated as `cat(freqs, freqs)` like transformers.
    public func rotaryTables(positionIDs: Value, _ rope: RotaryConfig) throws -> (cos: Value, sin: Value) {
        try scope("rotary_emb") {
            let positions = try cast(positionIDs, to: .float32)
            let inverse = try inverseFrequencies(rope, positions: positions)
            let frequencies = try mul(try unsqueeze(positions, [-1]), inverse)
            let angles = try node(.concat(axis: -1), frequencies, frequencies)
            var cos = try node(.cos, angles), sin = try node(.sin, angles)
            if rope.attentionScaling != 1 {
                cos = try mul(cos, scalar(rope.attentionScaling))
                sin = try mul(sin, scalar(rope.attentionScaling))
            }
            return (try unsqueeze(cos, [1]), try unsqueeze(sin, [1]))
        }
    }

    /// The inverse frequencies `[width / 2]` for this input: the fixed table, or the one
    /// transformers' `dynamic_rope_update` would pick or compute for its length.
    func inverseFrequencies(_ rope: RotaryConfig, positions: Value) throws -> Value {
        switch rope.frequencies {
        case .fixed(let table):
            return literal(.float32(table))
        case .lengthSwitched(let short, let long, let originalLength):
            let beyond = try node(.greater, try sequenceLength(positions), scalar(Float(originalLength)), name: "BeyondOriginalLength")
            return try node(.where, beyond, literal(.float32(long)), literal(.float32(short)), name: "InverseFrequencies")
        case .dynamicNTK(let base, let theta, let factor, let maxPositions):
            // `_compute_dynamic_ntk_parameters` with a tensor length, every step in float32:
            // theta · ((factor · length / max) − (factor − 1)) ** (w / (w − 2)), then 1 / theta'^(2i / w).
            let length = try sequenceLength(positions)
            let stretch = try sub(try div(try mul(scalar(Float(factor)), length), scalar(Float(maxPositions))), scalar(Float(factor - 1)))
            let exponent = Float(Double(rope.width) / Double(rope.width - 2))
            let grownTheta = try mul(scalar(Float(theta)), try node(.pow, stretch, scalar(exponent)))
            let exponents = literal(.float32(RotaryConfig.exponents(width: rope.width)))
            let grown = try div(scalar(1), try node(.pow, grownTheta, exponents), name: "GrownFrequencies")
            let beyond = try node(.greater, length, scalar(Float(maxPositions)), name: "BeyondMaxPositions")
            return try node(.where, beyond, grown, literal(.float32(base)), name: "InverseFrequencies")
        }
    }

    /// transformers' `seq_len = max(position_ids) + 1` over the whole batch, a float32 scalar
    /// (positions are exact in float32 below 2^24).
    func sequenceLength(_ positions: Value) throws -> Value {
        try add(try node(.reduce(.max, axes: [0, 1], keepDims: false), positions, name: "MaxPosition"), scalar(1), name: "SequenceLength")
    }
}
