import Foundation
import ONNXExportIR

/// transformers' `SequenceSummary` (ELECTRA's and XLM's multiple-choice and classification
/// pooling): pick or average tokens, the optional `summary` projection, the optional
/// `summary_activation`. Dropouts are identities at inference.
public struct SequenceSummary: Sendable {
    /// `summary_type`: how a sequence becomes one vector.
    public enum Kind: String, Sendable {
        case first, last, mean
        /// Without a `cls_index` input transformers takes the last token, which is what an
        /// export without that input computes.
        case clsIndex = "cls_index"
    }

    public var kind: Kind
    public var activation: Activation?

    /// Reads `summary_type` (default `defaultKind`, the config class's) and `summary_activation`
    /// (absent: `defaultActivation`, the config class's; null or empty: none, as transformers'
    /// `if activation_string`).
    public init(_ c: ConfigReader, defaultKind: Kind, defaultActivation: String? = nil) throws {
        let name = try c.string("summary_type", default: defaultKind.rawValue)
        guard let kind = Kind(rawValue: name) else {
            throw ExportError("\(c.origin): summary_type \"\(name)\" is not supported (first, last, mean, cls_index)")
        }
        self.kind = kind
        // A config saved with its class's default leaves the key out (XLNet's is "tanh"); an
        // explicit null means none.
        let written = c.has("summary_activation") ? try c.optionalString("summary_activation")
            : (c.fields["summary_activation"] is NSNull ? nil : defaultActivation)
        activation = try written.flatMap { $0.isEmpty ? nil : $0 }.map {
            try Activation(configValue: $0, origin: c.origin, key: "summary_activation")
        }
    }
}

extension GraphBuilder {
    /// The summary of `hidden` `[rows, seq, width]` → `[rows, width′]`; `w` holds `summary.weight`
    /// when the checkpoint has the projection (`summary_use_proj`).
    public func sequenceSummary(_ hidden: Value, _ summary: SequenceSummary, _ w: Weights) throws -> Value {
        var x: Value
        switch summary.kind {
        case .first: x = try firstToken(hidden)
        case .last, .clsIndex: x = try select(hidden, axis: 1, index: -1, name: "LastToken")
        case .mean: x = try node(.reduce(.mean, axes: [1], keepDims: false), hidden)
        }
        if w.has("summary.weight") { x = try linearHead(x, w, named: "summary") }
        if let activation = summary.activation { x = try self.activation(x, activation) }
        return x
    }
}
