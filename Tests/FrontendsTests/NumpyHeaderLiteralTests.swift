import Testing
@testable import ONNXExportFrontends

/// The Python-literal subset a `.npy` header is written in.
@Suite struct NumpyHeaderLiteralTests {
    @Test func parsesTheHeaderNumpyWrites() throws {
        let literal = try NumpyHeaderLiteral.parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n")
        #expect(literal == .dict([
            ("descr", .string("<f4")), ("fortran_order", .bool(false)), ("shape", .tuple([.integer("2"), .integer("3")])),
        ]))
    }

    @Test func tuplesOfOneAndNone() throws {
        #expect(try NumpyHeaderLiteral.parse("(5,)") == .tuple([.integer("5")]))
        #expect(try NumpyHeaderLiteral.parse("()") == .tuple([]))
        #expect(try NumpyHeaderLiteral.parse("[None, True, -3]") == .list([.none, .bool(true), .integer("-3")]))
        #expect(try NumpyHeaderLiteral.parse(#"'it\'s'"#) == .string("it's"))
    }

    @Test func refusesWhatIsNotALiteral() {
        for text in ["{'a': 1} x", "{'a' 1}", "(1 2)", "1.5", "Truth", "{1: 2}", "'open", "-", "(", "{'a': 1,"] {
            #expect(throws: NumpyHeaderProblem.self, "\(text)") { _ = try NumpyHeaderLiteral.parse(text) }
        }
    }
}
