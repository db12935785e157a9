import ONNXExportIR

/// TensorFlow `DataType` codes (`tensorflow/core/framework/types.proto`) as a checkpoint's
/// `BundleEntryProto.dtype` stores them, and what this reader does with each.
///
/// Numeric types with an IR equivalent become tensors. Strings, resources and variants are not
/// weights (the object graph `_CHECKPOINTABLE_OBJECT_GRAPH`, saved iterator state), and their byte
/// layout differs from a dense array, so they are skipped. Every other numeric type (complex,
/// quantized, fp8, 4-bit) would be a weight this exporter cannot carry, so it is an error naming
/// the tensor rather than a silent omission.
enum TensorBundleDType {
    enum Handling: Equatable {
        case tensor(DataType)
        case skip
        case unsupported
    }

    static func handling(of code: UInt64) -> Handling {
        if let type = dataTypes[code] { return .tensor(type) }
        if skipped.contains(code) { return .skip }
        return .unsupported
    }

    /// `DT_FLOAT`-style name for messages.
    static func name(of code: UInt64) -> String {
        if let name = names[code] { return "DT_" + name }
        if code > 100, let name = names[code - 100] { return "DT_" + name + "_REF" }
        return "DataType \(code)"
    }

    private static let dataTypes: [UInt64: DataType] = [
        1: .float32, 2: .float64, 3: .int32, 4: .uint8, 5: .int16, 6: .int8, 9: .int64, 10: .bool,
        14: .bfloat16, 17: .uint16, 19: .float16, 22: .uint32, 23: .uint64,
    ]

    /// DT_STRING, DT_RESOURCE, DT_VARIANT.
    private static let skipped: Set<UInt64> = [7, 20, 21]

    private static let names: [UInt64: String] = [
        0: "INVALID", 1: "FLOAT", 2: "DOUBLE", 3: "INT32", 4: "UINT8", 5: "INT16", 6: "INT8", 7: "STRING",
        8: "COMPLEX64", 9: "INT64", 10: "BOOL", 11: "QINT8", 12: "QUINT8", 13: "QINT32", 14: "BFLOAT16",
        15: "QINT16", 16: "QUINT16", 17: "UINT16", 18: "COMPLEX128", 19: "HALF", 20: "RESOURCE",
        21: "VARIANT", 22: "UINT32", 23: "UINT64", 24: "FLOAT8_E5M2", 25: "FLOAT8_E4M3FN",
        26: "FLOAT8_E4M3FNUZ", 27: "FLOAT8_E4M3B11FNUZ", 28: "FLOAT8_E5M2FNUZ", 29: "INT4", 30: "UINT4",
        31: "INT2", 32: "UINT2", 33: "FLOAT4_E2M1FN",
    ]
}
