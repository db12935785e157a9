import Foundation

/// JSON text exactly as Python's `json.dumps(value, indent=2)` writes it, for files that must
/// match what a transformers script wrote byte for byte (XLM's converted `config.json` and
/// `vocab.json`): keys in insertion order, `": "` between key and value, `","` at line ends, empty
/// containers as `{}` / `[]`, every character outside printable ASCII escaped (`ensure_ascii`:
/// `\u00e9`, astral characters as surrogate pairs), and numbers as Python spells them (`number`
/// literals are written as given; `floatLiteral` gives Python's `repr` of a double).
enum PythonJSON {
    static func dumps(_ value: OrderedJSON, indent: Int = 2) -> String {
        var out = ""
        write(value, level: 0, indent: indent, into: &out)
        return out
    }

    private static func write(_ value: OrderedJSON, level: Int, indent: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let literal): out += literal
        case .string(let s): out += quoted(s)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += (i == 0 ? "\n" : ",\n") + String(repeating: " ", count: (level + 1) * indent)
                write(item, level: level + 1, indent: indent, into: &out)
            }
            out += "\n" + String(repeating: " ", count: level * indent) + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, member) in members.enumerated() {
                out += (i == 0 ? "\n" : ",\n") + String(repeating: " ", count: (level + 1) * indent) + quoted(member.key) + ": "
                write(member.value, level: level + 1, indent: indent, into: &out)
            }
            out += "\n" + String(repeating: " ", count: level * indent) + "}"
        }
    }

    /// A string literal with `ensure_ascii`, as Python writes it by default.
    static func quoted(_ s: String) -> String { JSONStringLiteral.quoted(s, asciiOnly: true) }

    /// Python's `float.__repr__` as `json` writes it: the shortest digits that round-trip, in
    /// fixed notation when the decimal exponent is in -4..<16 (`0.0001`, `100.0`), else
    /// scientific with at least two exponent digits (`1e-05`, `1e+16`); `Infinity`, `-Infinity`
    /// and `NaN` for the values JSON has no number for.
    static func floatLiteral(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
        // Swift's description has the same shortest round-trip digits; only the layout differs.
        var text = Substring(x.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? "0"
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        // value = 0.digits × 10^point
        var digits = Array(whole + fraction)
        var point = whole.count + exponent
        while digits.first == "0", digits.count > 1 { digits.removeFirst(); point -= 1 }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        let sign = x.sign == .minus ? "-" : ""
        if digits == ["0"] { return sign + "0.0" }
        let body: String
        if point > -4 && point <= 16 {
            if point <= 0 {
                body = "0." + String(repeating: "0", count: -point) + String(digits)
            } else if point >= digits.count {
                body = String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
            } else {
                body = String(digits[..<point]) + "." + String(digits[point...])
            }
        } else {
            let e = point - 1
            let mantissa = digits.count == 1 ? String(digits) : String(digits[0]) + "." + String(digits[1...])
            body = mantissa + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
        }
        return sign + body
    }
}
