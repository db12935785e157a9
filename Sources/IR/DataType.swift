/// Element types of IR tensors. Raw values are ONNX `TensorProto.DataType` codes, so the backend
/// converts with `rawValue` and nothing else needs a table.
public enum DataType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16

    /// Bytes per element in raw little-endian storage (bool is one byte, as ONNX stores it).
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        case .float16: return "float16"
        case .float64: return "float64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bfloat16: return "bfloat16"
        }
    }
}

extension DataType {
    /// `Float16`, `BFloat16`, ...: for node names such as `/logits/CastToFloat32`.
    public var capitalizedName: String {
        switch self {
        case .float16: return "Float16"
        case .bfloat16: return "BFloat16"
        case .float32: return "Float32"
        default: return description.prefix(1).uppercased() + description.dropFirst()
        }
    }
}
