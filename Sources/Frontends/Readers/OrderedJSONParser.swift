/// Why a byte sequence is not JSON, and where: `detail` is a sentence such as
/// `expected ':' after an object key at byte 17`, ready to follow "header is not valid JSON: ".
struct OrderedJSONSyntaxError: Error, Equatable {
    var reason: String
    /// Offset of the offending byte from the start of the parsed bytes.
    var offset: Int
    var detail: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser producing `OrderedJSON`.
///
/// Written by hand rather than built on `JSONSerialization` for two reasons: duplicate keys must
/// survive (see `OrderedJSON`), and the input is hostile, so nesting depth is bounded (a header
/// of a million `[` must be an error, not a stack overflow) and strings must be valid UTF-8.
/// It is a single pass over the bytes with one byte of look-ahead.
struct OrderedJSONParser {
    /// Deeper nesting than any checkpoint header or index needs (they use three levels).
    static let maximumDepth = 128

    /// Parses `bytes` as one JSON value, allowing whitespace around it and nothing else.
    static func parse(_ bytes: [UInt8]) throws -> OrderedJSON {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = OrderedJSONParser(bytes: buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.position < buffer.count {
                throw parser.failure("unexpected \(parser.describeCurrentByte()) after the end of the JSON value")
            }
            return value
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: values

    private mutating func parseValue(depth: Int) throws -> OrderedJSON {
        guard let byte = peek() else { throw failure("unexpected end of input, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected \(describeCurrentByte()), expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws -> OrderedJSON {
        try checkDepth(depth)
        position += 1  // '{'
        var members: [OrderedJSON.Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw failure("unexpected \(describeCurrentByte()), expected a string key in an object")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw failure("unexpected \(describeCurrentByte()), expected ':' after the object key \"\(key)\"")
            }
            position += 1
            skipWhitespace()
            members.append(OrderedJSON.Member(key: key, value: try parseValue(depth: depth)))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw failure("unexpected \(describeCurrentByte()), expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws -> OrderedJSON {
        try checkDepth(depth)
        position += 1  // '['
        var items: [OrderedJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            default: throw failure("unexpected \(describeCurrentByte()), expected ',' or ']' in an array")
            }
        }
    }

    private func checkDepth(_ depth: Int) throws {
        if depth > Self.maximumDepth {
            throw failure("nesting deeper than \(Self.maximumDepth) levels")
        }
    }

    // MARK: scalars

    /// Checks the number against the JSON grammar and returns its text:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func parseNumber() throws -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw failure("expected a digit in a number") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let digit = peek(), isDigit(digit) else { throw failure("expected a digit after the decimal point") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), isDigit(digit) else { throw failure("expected a digit in the exponent") }
            skipDigits()
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// Reads a string starting at its opening quote; escapes are decoded, raw bytes must be UTF-8.
    private mutating func parseString() throws -> String {
        let start = position
        position += 1  // '"'
        var utf8: [UInt8] = []
        var hasRawNonASCII = false
        while true {
            guard let byte = peek() else {
                throw OrderedJSONSyntaxError(reason: "unterminated string", offset: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                if hasRawNonASCII, !Self.isValidUTF8(utf8) {
                    throw OrderedJSONSyntaxError(reason: "string is not valid UTF-8", offset: start)
                }
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw failure("control character 0x\(String(byte, radix: 16)) inside a string (it must be escaped)")
            default:
                if byte >= 0x80 { hasRawNonASCII = true }
                utf8.append(byte)
                position += 1
            }
        }
    }

    /// Decodes the escape after a backslash, appending its UTF-8 bytes.
    private mutating func parseEscape(into utf8: inout [UInt8]) throws {
        guard let byte = peek() else { throw failure("unterminated escape sequence") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            let scalar = try parseUnicodeEscape()
            utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            position -= 1
            throw failure("invalid escape \\\(describeCurrentByte())")
        }
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair written as two escapes; a lone surrogate is an error.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let escapeStart = position - 2
        let first = try parseHex4()
        var code = UInt32(first)
        if (0xD800..<0xDC00).contains(first) {
            guard peek() == UInt8(ascii: "\\"), peek(at: position + 1) == UInt8(ascii: "u") else {
                throw OrderedJSONSyntaxError(reason: "unpaired UTF-16 surrogate escape", offset: escapeStart)
            }
            position += 2
            let second = try parseHex4()
            guard (0xDC00..<0xE000).contains(second) else {
                throw OrderedJSONSyntaxError(reason: "unpaired UTF-16 surrogate escape", offset: escapeStart)
            }
            code = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else {
            throw OrderedJSONSyntaxError(reason: "unpaired UTF-16 surrogate escape", offset: escapeStart)
        }
        return scalar
    }

    private mutating func parseHex4() throws -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexValue(byte) else {
                throw failure("expected four hexadecimal digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let text = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for expected in text {
            guard peek() == expected else { throw failure("unexpected \(describeCurrentByte()), expected '\(literal)'") }
            position += 1
        }
    }

    // MARK: bytes

    private func peek() -> UInt8? { peek(at: position) }
    private func peek(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The current byte as a reader would like to see it: `'x'`, `byte 0xff`, or `end of input`.
    private func describeCurrentByte() -> String {
        guard let byte = peek() else { return "end of input" }
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    private func failure(_ reason: String) -> OrderedJSONSyntaxError {
        OrderedJSONSyntaxError(reason: reason, offset: position)
    }

    private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var decoder = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
