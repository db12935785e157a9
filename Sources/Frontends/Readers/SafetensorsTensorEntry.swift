import ONNXExportIR

/// One tensor's entry in a safetensors header (`{"dtype": ..., "shape": [...], "data_offsets": [b, e]}`),
/// checked on its own: a known dtype, a shape of non-negative integers whose byte size fits in
/// 64 bits, and offsets that span exactly that many bytes.
///
/// Where the bytes lie in the file is checked by the caller, which knows the data buffer's size.
struct SafetensorsTensorEntry {
    var dtypeName: String
    var dataType: DataType
    var shape: [Int]
    /// Offsets relative to the start of the data buffer; `end` is exclusive.
    var begin: Int
    var end: Int

    /// Validates `json`; `fail` turns a problem into an error naming the file and the tensor.
    init(_ json: OrderedJSON, fail: (String) -> ExportError) throws {
        guard case .object(let members) = json else {
            throw fail("expected an object with dtype, shape and data_offsets, found \(json.kindName)")
        }
        if let repeated = OrderedJSON.duplicateKeys(in: members).first {
            throw fail("key '\(repeated)' appears more than once")
        }
        func field(_ key: String) throws -> OrderedJSON {
            guard let value = members.first(where: { $0.key == key })?.value else {
                throw fail("has no '\(key)'; each tensor needs dtype, shape and data_offsets")
            }
            return value
        }

        (dtypeName, dataType) = try Self.dataType(try field("dtype"), fail: fail)
        shape = try Self.shape(try field("shape"), fail: fail)
        (begin, end) = try Self.offsets(try field("data_offsets"), fail: fail)

        let byteCount = try Self.byteCount(shape: shape, dtypeName: dtypeName, elementSize: dataType.byteSize, fail: fail)
        guard end - begin == byteCount else {
            throw fail("dtype \(dtypeName) and shape \(shape) need \(byteCount) bytes but data_offsets span \(end - begin)")
        }
    }

    private static func dataType(_ json: OrderedJSON, fail: (String) -> ExportError) throws -> (String, DataType) {
        guard case .string(let name) = json else {
            throw fail("dtype must be a string such as \"F32\", found \(json.briefDescription)")
        }
        if let dataType = SafetensorsDType.dataTypes[name] { return (name, dataType) }
        let supported = SafetensorsDType.supportedNames.joined(separator: ", ")
        if SafetensorsDType.knownUnsupportedNames.contains(name) {
            throw fail("dtype \(name) is not supported by this exporter; supported dtypes: \(supported)")
        }
        throw fail("unknown dtype '\(name)'; expected one of \(supported)")
    }

    private static func shape(_ json: OrderedJSON, fail: (String) -> ExportError) throws -> [Int] {
        guard case .array(let items) = json else {
            throw fail("shape must be an array of non-negative integers, found \(json.briefDescription)")
        }
        return try items.map { item in
            if let dimension = item.nonNegativeInt { return dimension }
            if case .number(let literal) = item, literal.hasPrefix("-") {
                throw fail("shape \(json.briefDescription) has a negative dimension \(literal)")
            }
            throw fail("shape \(json.briefDescription) has dimension \(item.briefDescription); expected a non-negative integer below 2^63")
        }
    }

    private static func offsets(_ json: OrderedJSON, fail: (String) -> ExportError) throws -> (Int, Int) {
        guard case .array(let items) = json, items.count == 2,
              let begin = items[0].nonNegativeInt, let end = items[1].nonNegativeInt else {
            throw fail("data_offsets must be [begin, end], two non-negative integers, found \(json.briefDescription)")
        }
        guard begin <= end else {
            throw fail("data_offsets [\(begin), \(end)] end before they begin")
        }
        return (begin, end)
    }

    /// `product(shape) × elementSize`, refusing shapes whose size overflows instead of trapping:
    /// a hostile header may well claim `[2^40, 2^40]`. The product is taken left to right, as
    /// `TensorData.elementCount` takes it, so every shape accepted here is safe to use there
    /// (a shape like `[2^40, 2^40, 0]` is refused although it holds nothing).
    private static func byteCount(shape: [Int], dtypeName: String, elementSize: Int, fail: (String) -> ExportError) throws -> Int {
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            if overflow {
                throw fail("shape \(shape) has more elements than 64-bit arithmetic can count; the shape cannot be right")
            }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: elementSize)
        if overflow {
            throw fail("dtype \(dtypeName) and shape \(shape) need more than 2^63 bytes; the shape cannot be right")
        }
        return bytes
    }
}
