import Foundation
import Testing
@testable import ONNXExportFrontends

/// `PythonJSON` must write what Python's `json.dumps(value, indent=2)` writes, byte for byte; the
/// expected strings below are Python 3.11's output.
@Suite struct PythonJSONTests {
    @Test(arguments: [
        (0.1, "0.1"), (0.15, "0.15"), (100.0, "100.0"), (5.0, "5.0"), (0.0, "0.0"), (-0.0, "-0.0"),
        (1e-4, "0.0001"), (1e-5, "1e-05"), (5e-05, "5e-05"), (1e-12, "1e-12"), (-2.5e-7, "-2.5e-07"),
        (1e15, "1000000000000000.0"), (1e16, "1e+16"), (1.5e16, "1.5e+16"), (123456789012345678.0, "1.2345678901234568e+17"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (Double.leastNonzeroMagnitude, "5e-324"), (0.3333333333333333, "0.3333333333333333"),
        (2.5e-3, "0.0025"), (Double.infinity, "Infinity"), (-Double.infinity, "-Infinity"), (Double.nan, "NaN"),
    ])
    func floatsAsPythonsRepr(value: Double, python: String) {
        #expect(PythonJSON.floatLiteral(value) == python)
    }

    @Test func indentSeparatorsAndEmptyContainers() {
        let value = OrderedJSON.object([
            .init(key: "a", value: .number("1")),
            .init(key: "b", value: .array([.bool(true), .null, .array([]), .object([])])),
            .init(key: "c", value: .object([.init(key: "d", value: .string("x"))])),
        ])
        #expect(PythonJSON.dumps(value) == """
        {
          "a": 1,
          "b": [
            true,
            null,
            [],
            {}
          ],
          "c": {
            "d": "x"
          }
        }
        """)
        #expect(PythonJSON.dumps(.object([])) == "{}")
    }

    @Test func ensureASCIIEscapes() {
        // json.dumps("a\"b\\c\n\t\u0001\u007f é 日 😀")
        #expect(PythonJSON.quoted("a\"b\\c\n\t\u{01}\u{7F} é 日 😀")
                == #""a\"b\\c\n\t\u0001\u007f \u00e9 \u65e5 \ud83d\ude00""#)
        #expect(PythonJSON.quoted("\u{08}\u{0C}\r") == #""\b\f\r""#)
    }
}
