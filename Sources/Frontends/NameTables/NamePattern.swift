import Foundation
import ONNXExportIR

/// One `NameRule` ready to match: its original name cut into literal text and placeholders.
///
/// A placeholder is a lowercase word in braces (`{i}`, `{g}`, `{j}`). It matches a decimal number
/// in the original name, and the number is written where the same placeholder stands in the
/// transformers name, so ALBERT's `group_{g}/inner_group_{j}/...` becomes
/// `albert_layer_groups.{g}.albert_layers.{j}....` with both numbers kept. The number is written
/// without leading zeros, as the loaders' `int(...)` reads it: Mesh TensorFlow's `block_007` is
/// transformers' `block.7`. A rule without placeholders is an exact name.
struct NamePattern {
    let rule: NameRule
    /// The placeholders of the original name, in order (each at most once).
    let placeholders: [String]
    /// nil for an exact name.
    private let regex: NSRegularExpression?

    init(_ rule: NameRule) throws {
        self.rule = rule
        let parts = Self.split(rule.original)
        let names = parts.compactMap(\.placeholder)
        if let repeated = names.first(where: { p in names.filter { $0 == p }.count > 1 }) {
            throw ExportError("name rule '\(rule.original)': placeholder {\(repeated)} appears more than once")
        }
        if let unknown = Self.split(rule.transformers).compactMap(\.placeholder).first(where: { !names.contains($0) }) {
            throw ExportError("name rule '\(rule.original)' -> '\(rule.transformers)': {\(unknown)} is not in the original name")
        }
        placeholders = names
        guard !names.isEmpty else { regex = nil; return }
        let pattern = parts.map { $0.placeholder == nil ? NSRegularExpression.escapedPattern(for: $0.text) : "([0-9]+)" }.joined()
        regex = try NSRegularExpression(pattern: "^" + pattern + "$")
    }

    var isExact: Bool { regex == nil }

    /// The transformers name for `name`, or nil when the rule does not match it.
    func target(for name: String) -> String? {
        guard let regex else { return name == rule.original ? rule.transformers : nil }
        guard let match = regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) else { return nil }
        var values: [String: String] = [:]
        for (k, placeholder) in placeholders.enumerated() {
            guard let r = Range(match.range(at: k + 1), in: name) else { return nil }
            let digits = name[r].drop { $0 == "0" }
            values[placeholder] = digits.isEmpty ? "0" : String(digits)
        }
        return Self.split(rule.transformers).map { part in part.placeholder.flatMap { values[$0] } ?? part.text }.joined()
    }

    /// A piece of a rule's name: literal text, or a placeholder (`text` then holds `{name}`).
    struct Part {
        var text: String
        var placeholder: String?
    }

    /// `"a/{i}/b"` → `a/`, `{i}`, `/b`. Braces around anything but lowercase letters stay literal.
    static func split(_ name: String) -> [Part] {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(name)
        while let open = rest.firstIndex(of: "{") {
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), close > afterOpen,
               rest[afterOpen..<close].allSatisfy({ $0.isASCII && $0.isLowercase }) {
                literal += rest[..<open]
                if !literal.isEmpty { parts.append(Part(text: literal)) }
                literal = ""
                parts.append(Part(text: String(rest[open...close]), placeholder: String(rest[afterOpen..<close])))
                rest = rest[rest.index(after: close)...]
            } else {
                literal += rest[...open]
                rest = rest[afterOpen...]
            }
        }
        literal += rest
        if !literal.isEmpty { parts.append(Part(text: literal)) }
        return parts
    }
}
