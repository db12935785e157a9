import Foundation

/// A JSON string literal as Python's `json` and Rust's `serde_json` write one: `\"`, `\\`, the
/// short escapes `\n \r \t \b \f`, `\u00xx` for other control characters, and, with `asciiOnly`
/// (Python's default `ensure_ascii`), `\uxxxx` for everything past `~` (astral characters as
/// surrogate pairs); otherwise those are written as they are.
enum JSONStringLiteral {
    static func quoted(_ s: String, asciiOnly: Bool) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case " "..."~": out.unicodeScalars.append(scalar)
            case let c where c.value < 0x20 || asciiOnly:
                for unit in String(c).utf16 { out += String(format: "\\u%04x", unit) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
