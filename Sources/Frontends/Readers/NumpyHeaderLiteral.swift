/// The Python literal that is a `.npy` header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// NumPy reads it with `ast.literal_eval`; this is the subset such a header can hold: strings,
/// `True`/`False`/`None`, integers (with Python 2's `L` suffix, which old files carry), tuples,
/// lists and dicts, trailing commas allowed. Anything else, an expression or a call, is refused:
/// the header is data, never code.
indirect enum NumpyHeaderLiteral: Equatable {
    case string(String)
    case bool(Bool)
    case none
    /// The digits as written (an optional `-`), so an oversized dimension is reported as written.
    case integer(String)
    case tuple([NumpyHeaderLiteral])
    case list([NumpyHeaderLiteral])
    case dict([(key: String, value: NumpyHeaderLiteral)])

    static func == (a: NumpyHeaderLiteral, b: NumpyHeaderLiteral) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none): return true
        case (.integer(let x), .integer(let y)): return x == y
        case (.tuple(let x), .tuple(let y)), (.list(let x), .list(let y)): return x == y
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses `text` as one literal followed only by whitespace.
    static func parse(_ text: String) throws -> NumpyHeaderLiteral {
        var parser = Parser(characters: Array(text.unicodeScalars))
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.isAtEnd else { throw parser.problem("unexpected \(parser.describeNext()) after the header's value") }
        return value
    }

    /// A short rendering for messages.
    var brief: String {
        switch self {
        case .string(let s): return "'\(s.prefix(40))'"
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .integer(let digits): return digits
        case .tuple(let items): return "(" + items.prefix(8).map(\.brief).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.prefix(8).map(\.brief).joined(separator: ", ") + "]"
        case .dict: return "a dict"
        }
    }

    private struct Parser {
        let characters: [Unicode.Scalar]
        var position = 0
        /// Headers are flat; deep nesting can only be hostile, and would exhaust the stack.
        static let maximumDepth = 32

        var isAtEnd: Bool { position >= characters.count }

        func problem(_ detail: String) -> NumpyHeaderProblem {
            NumpyHeaderProblem("\(detail) at character \(position)")
        }

        func describeNext() -> String {
            isAtEnd ? "end of header" : "'\(Character(characters[position]))'"
        }

        mutating func skipWhitespace() {
            while !isAtEnd, characters[position].properties.isWhitespace { position += 1 }
        }

        mutating func value(depth: Int) throws -> NumpyHeaderLiteral {
            guard depth < Self.maximumDepth else { throw problem("header nests deeper than \(Self.maximumDepth) levels") }
            skipWhitespace()
            guard !isAtEnd else { throw problem("header ends where a value was expected") }
            switch characters[position] {
            case "'", "\"": return .string(try string())
            case "(": return .tuple(try sequence(closing: ")", depth: depth))
            case "[": return .list(try sequence(closing: "]", depth: depth))
            case "{": return try dict(depth: depth)
            case "-", "0"..."9": return .integer(try integer())
            default:
                for (word, literal) in [("True", NumpyHeaderLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
                where matches(word) {
                    position += word.unicodeScalars.count
                    return literal
                }
                throw problem("unexpected \(describeNext()); a .npy header holds only strings, numbers, booleans, tuples, lists and dicts")
            }
        }

        func matches(_ word: String) -> Bool {
            let scalars = Array(word.unicodeScalars)
            guard position + scalars.count <= characters.count,
                  Array(characters[position..<(position + scalars.count)]) == scalars else { return false }
            let after = position + scalars.count
            return after == characters.count || !(characters[after].properties.isAlphabetic || characters[after] == "_")
        }

        mutating func string() throws -> String {
            let quote = characters[position]
            position += 1
            var result = String.UnicodeScalarView()
            while !isAtEnd {
                let c = characters[position]
                position += 1
                if c == quote { return String(result) }
                if c == "\\" {
                    guard !isAtEnd else { break }
                    let escaped = characters[position]
                    position += 1
                    switch escaped {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    default: result.append(escaped)
                    }
                } else {
                    result.append(c)
                }
            }
            throw problem("unterminated string")
        }

        mutating func integer() throws -> String {
            let start = position
            if characters[position] == "-" { position += 1 }
            let digitsStart = position
            while !isAtEnd, ("0"..."9").contains(characters[position]) { position += 1 }
            guard position > digitsStart else { throw problem("'-' without digits") }
            let text = String(String.UnicodeScalarView(characters[start..<position]))
            if !isAtEnd, characters[position] == "L" || characters[position] == "l" { position += 1 }  // Python 2 long
            if !isAtEnd, characters[position] == "." || characters[position] == "e" || characters[position] == "E" {
                throw problem("a number that is not an integer")
            }
            return text
        }

        mutating func sequence(closing: Unicode.Scalar, depth: Int) throws -> [NumpyHeaderLiteral] {
            position += 1
            var items: [NumpyHeaderLiteral] = []
            while true {
                skipWhitespace()
                if !isAtEnd, characters[position] == closing { position += 1; return items }
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard !isAtEnd else { throw problem("header ends inside a tuple or list") }
                if characters[position] == "," { position += 1; continue }
                guard characters[position] == closing else { throw problem("expected ',' or '\(Character(closing))', found \(describeNext())") }
            }
        }

        mutating func dict(depth: Int) throws -> NumpyHeaderLiteral {
            position += 1
            var members: [(key: String, value: NumpyHeaderLiteral)] = []
            while true {
                skipWhitespace()
                if !isAtEnd, characters[position] == "}" { position += 1; return .dict(members) }
                guard case .string(let key) = try value(depth: depth + 1) else { throw problem("dict keys must be strings") }
                skipWhitespace()
                guard !isAtEnd, characters[position] == ":" else { throw problem("expected ':' after key '\(key)', found \(describeNext())") }
                position += 1
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard !isAtEnd else { throw problem("header ends inside the dict") }
                if characters[position] == "," { position += 1; continue }
                guard characters[position] == "}" else { throw problem("expected ',' or '}', found \(describeNext())") }
            }
        }
    }
}

/// A problem with a `.npy` header, as a sentence without the file name (the caller adds it).
struct NumpyHeaderProblem: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}
