import ONNXExportIR

/// Reads the header of one `.safetensors` file and turns its entries into lazy tensors.
///
/// Layout (the format section of huggingface/safetensors' README): an 8-byte little-endian
/// header length `N`, `N` bytes of UTF-8 JSON starting with `{` (padded with spaces), then the
/// data buffer, to which every tensor's `data_offsets` are relative. Only the first `8 + N`
/// bytes are read; every range is checked against the file size, so later reads of tensor data
/// stay inside the file.
enum SafetensorsFile {
    /// The largest header the reference implementation accepts (`MAX_HEADER_SIZE` in tensor.rs).
    /// It also bounds the memory a hostile length can make this reader allocate.
    static let maximumHeaderLength = 100_000_000

    /// Bytes of the little-endian header length that opens the file.
    static let lengthPrefixSize = 8

    /// The tensors of the file at `path`, keyed by name; `__metadata__` is skipped.
    static func readTensors(atPath path: String) throws -> [String: TensorData] {
        let file = try ReadOnlyFile(path: path)
        let headerLength = try readHeaderLength(of: file)
        let header = try file.readBytes(at: lengthPrefixSize, count: headerLength)
        let members = try parseHeader(header, path: path)

        let dataStart = lengthPrefixSize + headerLength
        let dataSize = file.size - dataStart
        var tensors: [String: TensorData] = [:]
        tensors.reserveCapacity(members.count)
        // `__metadata__` is a free-form string map (e.g. {"format": "pt"}); nothing here needs it.
        for member in members where member.key != "__metadata__" {
            let name = member.key
            let fail = { (problem: String) in ExportError("\(path): tensor '\(name)': \(problem)") }
            let entry = try SafetensorsTensorEntry(member.value, fail: fail)
            // Only containment is checked. The format asks writers to cover the buffer without
            // holes, but a hole or an overlap cannot make this reader touch bytes outside the file,
            // and refusing them would only reject files other readers load (the bytes of each
            // tensor are still exactly the ones its entry names).
            guard entry.end <= dataSize else {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] leave the data buffer of \(dataSize) bytes"
                    + " (the file has \(file.size) bytes, \(dataStart) of them length and header); is the file truncated?")
            }
            let region = FileRegion(path: path, offset: dataStart + entry.begin, length: entry.end - entry.begin)
            tensors[name] = try TensorData.file(region, dtype: entry.dataType, shape: entry.shape)
        }
        return tensors
    }

    /// The header length `N`, checked against the format's limit and the file size.
    private static func readHeaderLength(of file: ReadOnlyFile) throws -> Int {
        let path = file.path
        guard file.size > 0 else {
            throw ExportError("\(path): is empty (0 bytes); a safetensors file starts with an 8-byte header length")
        }
        guard file.size >= lengthPrefixSize else {
            throw ExportError("\(path): is only \(file.size) bytes long; a safetensors file starts with an 8-byte header length")
        }
        let prefix = try file.readBytes(at: 0, count: lengthPrefixSize)
        let length = prefix.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let room = file.size - lengthPrefixSize
        guard length <= UInt64(maximumHeaderLength) else {
            throw ExportError("\(path): header length \(length) is larger than the safetensors limit of \(maximumHeaderLength) bytes"
                + (length > UInt64(room) ? " and than the file (\(file.size) bytes); is this a safetensors file?" : ""))
        }
        guard length <= UInt64(room) else {
            throw ExportError("\(path): header length \(length) is larger than the file (\(file.size) bytes, \(room) after the 8-byte length); is the file truncated?")
        }
        guard length > 0 else {
            throw ExportError("\(path): header length is 0; expected a JSON object describing the tensors")
        }
        return Int(length)
    }

    /// The members of the header object, in file order, with duplicate names refused.
    private static func parseHeader(_ header: [UInt8], path: String) throws -> [OrderedJSON.Member] {
        guard header.first == UInt8(ascii: "{") else {
            throw ExportError("\(path): header is not a JSON object: it starts with \(describe(header.first)), expected '{'")
        }
        let json: OrderedJSON
        do {
            json = try OrderedJSONParser.parse(header)
        } catch let error as OrderedJSONSyntaxError {
            throw ExportError("\(path): header is not valid JSON: \(error.detail) of the header")
        }
        guard case .object(let members) = json else {
            throw ExportError("\(path): header is not a JSON object, found \(json.kindName)")
        }
        if let repeated = OrderedJSON.duplicateKeys(in: members).first {
            throw ExportError("\(path): header names tensor '\(repeated)' more than once; each name must be unique")
        }
        return members
    }

    /// A byte as a message should show it: `'['`, `byte 0x20`, or `nothing` past the end.
    private static func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "nothing" }
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }
}
