import ONNXExportIR

/// NumPy's `descr` strings (`'<f4'`, `'|u1'`, `'|b1'`, ...) for the types the IR can hold.
///
/// The first character is the byte order: `<` little, `>` big, `|` not applicable (one-byte
/// types), `=` native (little on every platform this tool builds for). Big-endian multi-byte data
/// is refused rather than swapped, since no checkpoint writer produces it. Object arrays (`'|O'`)
/// are pickles, refused without reading them; strings, bytes, void (including ml_dtypes'
/// bfloat16, which NumPy stores as `'<V2'`), complex and datetimes have no IR type.
enum NumpyDType {
    static func dataType(_ descr: String) throws -> DataType {
        var code = Substring(descr)
        var order: Character = "|"
        if let first = code.first, "<>|=".contains(first) {
            order = first
            code = code.dropFirst()
        }
        if let type = types[String(code)] {
            guard order != ">" || type.byteSize == 1 else {
                throw NumpyHeaderProblem("dtype '\(descr)' is big-endian; only little-endian arrays are supported (save with '<\(code)')")
            }
            return type
        }
        switch code.first {
        case "O":
            throw NumpyHeaderProblem("dtype '\(descr)' is an object array (pickled Python objects), which is refused: reading it would mean unpickling untrusted data")
        case "V":
            throw NumpyHeaderProblem("dtype '\(descr)' is raw void data (as ml_dtypes' bfloat16 is saved); expected a numeric dtype such as '<f4'")
        default:
            throw NumpyHeaderProblem("dtype '\(descr)' is not supported; supported: \(supported)")
        }
    }

    private static let types: [String: DataType] = [
        "f2": .float16, "f4": .float32, "f8": .float64,
        "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
        "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64,
        "b1": .bool, "?": .bool,
    ]

    private static let supported = "<f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1"
}
