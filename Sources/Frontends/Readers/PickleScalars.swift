import ONNXExportIR

/// The opcodes that push numbers, strings and bytes. Every length is read from the pickle and
/// checked against the bytes left before anything is allocated; integers beyond 64 bits become
/// `.largeInt` instead of failing, since metadata may hold one that no weight needs.
extension PickleUnpickler {
    mutating func scalar(_ opcode: PickleOpcode) throws -> PickleValue {
        switch opcode {
        case .none: return .none
        case .newTrue: return .bool(true)
        case .newFalse: return .bool(false)
        case .binInt: return .int(Int(Int32(truncatingIfNeeded: try input.unsigned(4, "BININT"))))
        case .binInt1: return .int(try input.count(1, "BININT1"))
        case .binInt2: return .int(try input.count(2, "BININT2"))
        case .int:
            // Protocol 0/1 booleans are INT "01" and "00".
            let line = try input.line("the INT value")
            if line == "01" { return .bool(true) }
            if line == "00" { return .bool(false) }
            return try decimal(line)
        case .long:
            let line = try input.line("the LONG value")
            return try decimal(line.hasSuffix("L") ? String(line.dropLast()) : line)
        case .long1:
            let length = try input.count(1, "the LONG1 length")
            return Self.littleEndianInteger(try input.read(length, "the LONG1 value"))
        case .long4:
            let length = Int(Int32(truncatingIfNeeded: try input.unsigned(4, "the LONG4 length")))
            guard length >= 0 else { throw input.error("has a negative length \(length)") }
            return Self.littleEndianInteger(try input.read(length, "the LONG4 value"))
        case .float:
            let line = try input.line("the FLOAT value")
            guard let value = Double(line) else {
                throw input.error("'\(line.prefix(40))' is not a float")
            }
            return .float(value)
        case .binFloat:
            return .float(Double(bitPattern: try input.read(8, "the BINFLOAT value").reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
        default:
            throw input.error("is not a scalar opcode")
        }
    }

    func decimal(_ text: String) throws -> PickleValue {
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw input.error("'\(text.prefix(40))' is not an integer")
        }
        return Int(text).map(PickleValue.int) ?? .largeInt
    }

    /// A two's-complement little-endian integer of any length (LONG1, LONG4).
    static func littleEndianInteger(_ bytes: ArraySlice<UInt8>) -> PickleValue {
        guard let last = bytes.last else { return .int(0) }
        let negative = last & 0x80 != 0
        // Bytes beyond the eighth must be pure sign extension for the value to fit.
        let significant = bytes.prefix(8)
        let extensionByte: UInt8 = negative ? 0xFF : 0x00
        guard bytes.dropFirst(8).allSatisfy({ $0 == extensionByte }) else { return .largeInt }
        var value = significant.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if significant.count < 8, negative { value |= UInt64.max << (8 * UInt64(significant.count)) }
        let signed = Int64(bitPattern: value)
        // A value whose 64-bit pattern has the wrong sign did not fit.
        guard (signed < 0) == negative else { return .largeInt }
        return .int(Int(signed))
    }

    mutating func text(_ opcode: PickleOpcode) throws -> PickleValue {
        switch opcode {
        case .binUnicode: return .string(try input.utf8(try input.count(4, "the BINUNICODE length"), "the BINUNICODE text"))
        case .shortBinUnicode: return .string(try input.utf8(try input.count(1, "the SHORT_BINUNICODE length"), "the SHORT_BINUNICODE text"))
        case .binUnicode8: return .string(try input.utf8(try input.count(8, "the BINUNICODE8 length"), "the BINUNICODE8 text"))
        case .binString:
            let length = Int(Int32(truncatingIfNeeded: try input.unsigned(4, "the BINSTRING length")))
            guard length >= 0 else { throw input.error("has a negative length \(length)") }
            // Python 2 `str`; torch.load decodes it as UTF-8.
            return .string(try input.utf8(length, "the BINSTRING text"))
        case .shortBinString: return .string(try input.utf8(try input.count(1, "the SHORT_BINSTRING length"), "the SHORT_BINSTRING text"))
        case .binBytes: return .bytes(Array(try input.read(try input.count(4, "the BINBYTES length"), "the BINBYTES data")))
        case .shortBinBytes: return .bytes(Array(try input.read(try input.count(1, "the SHORT_BINBYTES length"), "the SHORT_BINBYTES data")))
        case .binBytes8: return .bytes(Array(try input.read(try input.count(8, "the BINBYTES8 length"), "the BINBYTES8 data")))
        case .byteArray8: return .bytes(Array(try input.read(try input.count(8, "the BYTEARRAY8 length"), "the BYTEARRAY8 data")))
        default: throw input.error("is not a string opcode")
        }
    }
}
