/// A JSON value that keeps object members in file order, duplicates included.
///
/// Checkpoint headers (safetensors, its shard index) are JSON whose object keys are tensor names.
/// `JSONSerialization` keeps only the last of two equal keys, so a header naming a tensor twice
/// would pass silently with one of the two ranges dropped. This type keeps every member, so
/// readers can refuse such headers, and numbers keep their literal text, so a shape of
/// `1e400` or `18446744073709551616` is reported as written instead of being rounded to a double.
enum OrderedJSON: Equatable {
    case null
    case bool(Bool)
    /// The literal text of the number, exactly as it appeared (validated against the JSON grammar).
    case number(String)
    case string(String)
    case array([OrderedJSON])
    case object([Member])

    /// One `"key": value` pair of an object.
    struct Member: Equatable {
        var key: String
        var value: OrderedJSON
    }

    /// The value as a non-negative `Int`, if it is a JSON integer literal that fits.
    ///
    /// Fractions and exponents (`3.0`, `1e3`) are refused: sizes and offsets are integers, and a
    /// writer that produces anything else is not one this reader should trust.
    var nonNegativeInt: Int? {
        guard case .number(let literal) = self, literal.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(literal)
    }

    /// A short rendering for error messages: numbers and strings as written, containers by kind.
    /// Long arrays are cut after a few items so a hostile header cannot make a megabyte message.
    var briefDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let literal): return literal
        case .string(let s): return "\"\(s)\""
        case .array(let items):
            let shown = items.prefix(Self.itemsShownInMessages).map(\.briefDescription)
            let more = items.count > Self.itemsShownInMessages ? ", … (\(items.count) items)" : ""
            return "[" + shown.joined(separator: ", ") + more + "]"
        case .object: return "an object"
        }
    }

    private static let itemsShownInMessages = 16

    /// The kind of value, for "expected X, found Y" messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Keys that occur more than once among `members`, in order of their second occurrence.
    static func duplicateKeys(in members: [Member]) -> [String] {
        var seen = Set<String>()
        var duplicates: [String] = []
        for member in members where !seen.insert(member.key).inserted {
            if !duplicates.contains(member.key) { duplicates.append(member.key) }
        }
        return duplicates
    }
}
