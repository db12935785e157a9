import ONNXExportIR

/// The safetensors dtype strings this exporter can carry into ONNX, and their IR types.
///
/// The format also defines sub-byte and 8-bit float types (F4, F6_E2M3, F8_E4M3, ...) and C64;
/// they have no IR type here, so a header naming them is refused with the tensor's name instead of
/// being read with a wrong element size.
enum SafetensorsDType {
    static let dataTypes: [String: DataType] = [
        "F64": .float64, "F32": .float32, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "I16": .int16, "I8": .int8,
        "U64": .uint64, "U32": .uint32, "U16": .uint16, "U8": .uint8,
        "BOOL": .bool,
    ]

    /// The supported names, in a fixed order for error messages.
    static let supportedNames = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]

    /// Names the format defines that this exporter does not support, so messages can tell a
    /// legitimate but unsupported file from a corrupt one.
    static let knownUnsupportedNames: Set<String> = [
        "F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64",
    ]

    /// The dtype string a writer puts in the header for `type`.
    static func name(of type: DataType) -> String? { dataTypes.first { $0.value == type }?.key }

}
