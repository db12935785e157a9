import ONNXExportIR

/// The only Python globals a checkpoint pickle may name, and what each stands for here.
///
/// A pickle's GLOBAL and STACK_GLOBAL import any attribute of any module and REDUCE calls it;
/// that is how a malicious `pytorch_model.bin` runs `os.system`. This reader never imports or
/// calls anything: each allowed name maps to a case below that the unpickler interprets itself,
/// and any other name is refused at the opcode that names it. The list is what `torch.save`
/// writes for a state_dict: `collections.OrderedDict`, the `torch._utils._rebuild_*` functions,
/// `torch.nn.parameter.Parameter`, the storage classes and dtypes, `torch.Size`, `torch.device`,
/// and `_codecs.encode` (how protocol 2 pickles `bytes`). Legacy (pre-1.6) checkpoints saved from a
/// GPU may name `torch.cuda.FloatStorage` and friends, which torch maps to the same classes.
/// Besides these, a few NumPy globals become placeholders that can never be weights (`opaque`,
/// see `PickleOpaqueGlobal` for why that is safe).
enum PickleGlobal: Equatable, Sendable {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensorV3
    case rebuildParameter
    case rebuildParameterWithState
    case parameter
    /// A storage class: `torch.FloatStorage` and friends carry their element type;
    /// `torch.storage.UntypedStorage` (nil) holds bytes whose type `_rebuild_tensor_v3` names.
    case storageClass(DataType?)
    case dtype(DataType)
    case size
    case device
    case codecsEncode
    /// An object kept as a placeholder, never built (NumPy arrays beside the weights).
    case opaque(PickleOpaqueGlobal)

    /// The allowed global `module.name`, or nil.
    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): return .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch.nn.parameter", "Parameter"): return .parameter
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"): return .storageClass(nil)
        case ("torch", "Size"): return .size
        case ("torch", "device"): return .device
        case ("_codecs", "encode"): return .codecsEncode
        case ("torch", _):
            if let type = storageClasses[name] { return .storageClass(type) }
            if let type = dtypes[name] { return .dtype(type) }
            return nil
        case ("torch.cuda", _):
            return storageClasses[name].map { .storageClass($0) }
        default: return PickleOpaqueGlobal.resolve(module: module, name: name).map { .opaque($0) }
        }
    }

    /// Why a global that torch can write is still refused, when that is known, so the message
    /// says "not supported" instead of suggesting the file is malicious.
    static func unsupportedReason(module: String, name: String) -> String? {
        switch (module, name) {
        case ("torch._tensor", "_rebuild_from_type_v2"):
            return "tensor subclasses (or tensors with Python attributes) are not supported; save plain tensors, e.g. model.state_dict()"
        case ("torch._utils", let rebuild) where rebuild.hasPrefix("_rebuild_"):
            return "\(rebuild) rebuilds a tensor kind (sparse, quantized, nested, meta, ...) this reader does not support; only dense tensors are"
        case ("torch", let other) where other.hasSuffix("Storage") || unsupportedDtypes.contains(other):
            return "torch.\(other) is an element type this reader does not support (complex, quantized or 8-bit float)"
        default:
            return nil
        }
    }

    /// The legacy typed storage classes `torch.save` names in persistent ids.
    static let storageClasses: [String: DataType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    /// `torch.<dtype>` globals, with their aliases (`torch.float` is `torch.float32`).
    static let dtypes: [String: DataType] = [
        "float32": .float32, "float": .float32, "float64": .float64, "double": .float64,
        "float16": .float16, "half": .float16, "bfloat16": .bfloat16,
        "int64": .int64, "long": .int64, "int32": .int32, "int": .int32, "int16": .int16, "short": .int16,
        "int8": .int8, "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64, "bool": .bool,
    ]

    static let unsupportedDtypes: Set<String> = [
        "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
        "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
    ]

    /// What a message calls this global.
    var description: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .parameter: return "torch.nn.parameter.Parameter"
        case .storageClass(nil): return "torch.storage.UntypedStorage"
        case .storageClass(let type?):
            return "torch." + (Self.storageClasses.first { $0.value == type }?.key ?? "\(type)Storage")
        case .dtype(let type): return "torch.\(type)"
        case .size: return "torch.Size"
        case .device: return "torch.device"
        case .codecsEncode: return "_codecs.encode"
        case .opaque(let global): return global.description
        }
    }
}
