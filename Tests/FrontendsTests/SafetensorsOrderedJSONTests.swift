import Testing
@testable import ONNXExportFrontends

/// The hand-written JSON parser behind the safetensors header and index readers.
@Suite struct SafetensorsOrderedJSONTests {
    private func parse(_ text: String) throws -> OrderedJSON {
        try OrderedJSONParser.parse(Array(text.utf8))
    }

    private func syntaxError(_ bytes: [UInt8]) -> OrderedJSONSyntaxError? {
        #expect(throws: OrderedJSONSyntaxError.self) { _ = try OrderedJSONParser.parse(bytes) }
    }

    @Test func keepsMembersInOrderWithDuplicates() throws {
        let json = try parse(#" {"b": 1, "a": [true, false, null], "b": {"c": "d"}} "#)
        #expect(json == .object([
            .init(key: "b", value: .number("1")),
            .init(key: "a", value: .array([.bool(true), .bool(false), .null])),
            .init(key: "b", value: .object([.init(key: "c", value: .string("d"))])),
        ]))
        guard case .object(let members) = json else { return }
        #expect(OrderedJSON.duplicateKeys(in: members) == ["b"])
    }

    @Test func numbersKeepTheirLiteralText() throws {
        #expect(try parse("[0, -12, 3.25, 1e400, 18446744073709551616, 2E-3]") == .array([
            .number("0"), .number("-12"), .number("3.25"), .number("1e400"), .number("18446744073709551616"), .number("2E-3"),
        ]))
        #expect(try parse("42").nonNegativeInt == 42)
        #expect(try parse("-1").nonNegativeInt == nil)
        #expect(try parse("4.0").nonNegativeInt == nil)
        #expect(try parse("9223372036854775808").nonNegativeInt == nil)
    }

    @Test func decodesEscapesAndUTF8() throws {
        #expect(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ü""#) == .string("a\"b\\c/d\n\té😀 ü"))
    }

    @Test func reportsWhereTheInputGoesWrong() throws {
        let cases: [(String, String, Int)] = [
            (#"{"a" 1}"#, "expected ':'", 5),
            (#"{"a": 1,}"#, "expected a string key", 8),
            ("[1 2]", "expected ',' or ']'", 3),
            (#""abc"#, "unterminated string", 0),
            ("[01]", "expected ',' or ']'", 2),
            ("[1.]", "expected a digit after the decimal point", 3),
            ("tru", "expected 'true'", 3),
            (#""\ud800x""#, "unpaired UTF-16 surrogate", 1),
            (#""\q""#, "invalid escape", 2),
            ("{} x", "after the end of the JSON value", 3),
            ("", "unexpected end of input", 0),
        ]
        for (text, reason, offset) in cases {
            let error = syntaxError(Array(text.utf8))
            #expect(error?.reason.contains(reason) == true, "\(text): \(String(describing: error))")
            #expect(error?.offset == offset, "\(text): \(String(describing: error))")
        }
    }

    @Test func refusesControlCharactersAndBadUTF8InStrings() {
        #expect(syntaxError(Array("\"a\nb\"".utf8))?.reason.contains("control character 0xa") == true)
        #expect(syntaxError([0x22, 0xC3, 0x28, 0x22])?.reason == "string is not valid UTF-8")
        #expect(syntaxError([0x22, 0xED, 0xA0, 0x80, 0x22])?.reason == "string is not valid UTF-8")  // UTF-8 encoded surrogate
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: OrderedJSONParser.maximumDepth + 1) + String(repeating: "]", count: OrderedJSONParser.maximumDepth + 1)
        #expect(syntaxError(Array(deep.utf8))?.reason.contains("nesting deeper") == true)
        let allowed = String(repeating: "[", count: OrderedJSONParser.maximumDepth) + String(repeating: "]", count: OrderedJSONParser.maximumDepth)
        #expect(throws: Never.self) { _ = try OrderedJSONParser.parse(Array(allowed.utf8)) }
    }
}
