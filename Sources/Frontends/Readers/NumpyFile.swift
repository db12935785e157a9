import Foundation
import ONNXExportIR

/// The header of one `.npy` file and where its data lies (`numpy/lib/_format_impl.py`, NumPy's
/// NEP 1 "A Simple File Format for NumPy Arrays"): the magic `\x93NUMPY`, a major and minor
/// version, the header length (u16 for version 1, u32 for versions 2 and 3), a Python dict
/// literal with `descr`, `fortran_order` and `shape`, then the raw array bytes.
///
/// Only the header is read. The data range is checked against the file size, so the tensor's
/// later reads stay inside the file.
struct NumpyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// `np.load`'s default `max_header_size`: plain arrays need under 200 bytes, and the limit
    /// bounds what a hostile length can make this reader allocate.
    static let maximumHeaderLength = 10_000

    var path: String
    var dataType: DataType
    var shape: [Int]
    var fortranOrder: Bool
    /// The array bytes: `dataOffset ..< dataOffset + byteCount`.
    var dataOffset: Int
    var byteCount: Int

    init(path: String) throws {
        let file = try ReadOnlyFile(path: path)
        try self.init(file: file)
    }

    init(file: ReadOnlyFile) throws {
        try self.init(source: file, path: file.path)
    }

    /// Reads the header from `source` (a file, or the start of a `.npz` member), naming `path`
    /// in errors. `source.size` is the size of the whole array file.
    init(source file: NumpyByteSource, path: String) throws {
        self.path = path
        guard file.size >= 10 else {
            throw ExportError("\(path): is only \(file.size) bytes; a .npy file starts with a 10-byte preamble (magic, version, header length). Is it truncated?")
        }
        let preamble = try file.readBytes(at: 0, count: min(12, file.size))
        guard Array(preamble[0..<6]) == Self.magic else {
            throw ExportError("\(path): does not start with the .npy magic \\x93NUMPY; is this a NumPy array file?")
        }
        let major = preamble[6], minor = preamble[7]
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default:
            throw ExportError("\(path): .npy format version \(major).\(minor) is not supported; expected 1.0, 2.0 or 3.0")
        }
        guard preamble.count >= 8 + lengthSize else {
            throw ExportError("\(path): is only \(file.size) bytes, too short for a version \(major) header length")
        }
        let headerLength = preamble[8..<(8 + lengthSize)].reversed().reduce(0) { $0 << 8 | Int($1) }
        let headerStart = 8 + lengthSize
        guard headerLength <= Self.maximumHeaderLength else {
            throw ExportError("\(path): header length \(headerLength) is larger than the \(Self.maximumHeaderLength)-byte limit"
                + (headerLength > file.size - headerStart ? " and than the file (\(file.size) bytes)" : "")
                + "; a plain array's header needs under 200 bytes")
        }
        guard headerLength <= file.size - headerStart else {
            throw ExportError("\(path): header length \(headerLength) runs past the end of the file (\(file.size) bytes); is the file truncated?")
        }
        let headerBytes = try file.readBytes(at: headerStart, count: headerLength)
        // Versions 1 and 2 are latin-1, version 3 UTF-8.
        let headerText = major == 3
            ? String(validating: headerBytes, as: UTF8.self)
            : String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        guard let headerText else {
            throw ExportError("\(path): version 3 header is not valid UTF-8")
        }
        do {
            (dataType, shape, fortranOrder) = try Self.fields(of: NumpyHeaderLiteral.parse(headerText))
        } catch let problem as NumpyHeaderProblem {
            throw ExportError("\(path): header \(Self.quoted(headerText)) is not usable: \(problem.detail)")
        }

        dataOffset = headerStart + headerLength
        let fail = { (problem: String) in ExportError("\(path): \(problem)") }
        byteCount = try TensorBundleFile.byteCount(shape: shape, elementSize: dataType.byteSize, fail: fail)
        guard byteCount <= file.size - dataOffset else {
            throw ExportError("\(path): data is shorter than its shape: \(dataType)\(shape) needs \(byteCount) bytes after the header"
                + " (from byte \(dataOffset)) but the file has only \(file.size - dataOffset); is the file truncated?")
        }
    }

    /// The array as a lazy tensor in C order. A Fortran-order array is the same bytes as C order
    /// when at most one dimension exceeds 1, and for two dimensions is the transpose of the C-order
    /// array of the reversed shape; deeper Fortran-order arrays are refused.
    func tensor() throws -> TensorData {
        let region = FileRegion(path: path, offset: dataOffset, length: byteCount)
        guard fortranOrder, shape.filter({ $0 > 1 }).count > 1 else {
            return try TensorData.file(region, dtype: dataType, shape: shape)
        }
        guard shape.count == 2 else {
            throw ExportError("\(path): array of shape \(shape) is stored in Fortran order; only 2-D Fortran-order arrays are supported."
                + " Save it with np.ascontiguousarray(...)")
        }
        return try TensorData.file(region, dtype: dataType, shape: [shape[1], shape[0]]).transposed()
    }

    /// `descr`, `fortran_order` and `shape`, the three keys NumPy writes and requires.
    private static func fields(of literal: NumpyHeaderLiteral) throws -> (DataType, [Int], Bool) {
        guard case .dict(let members) = literal else {
            throw NumpyHeaderProblem("expected a dict with 'descr', 'fortran_order' and 'shape', found \(literal.brief)")
        }
        let keys = members.map(\.key)
        guard keys.sorted() == ["descr", "fortran_order", "shape"] else {
            throw NumpyHeaderProblem("has keys \(keys), expected exactly 'descr', 'fortran_order' and 'shape'")
        }
        func field(_ key: String) -> NumpyHeaderLiteral { members.first { $0.key == key }?.value ?? .none }

        let dataType: DataType
        switch field("descr") {
        case .string(let descr): dataType = try NumpyDType.dataType(descr)
        case .list: throw NumpyHeaderProblem("'descr' is a structured (record) dtype, which is not supported; expected a plain dtype such as '<f4'")
        case let other: throw NumpyHeaderProblem("'descr' must be a dtype string such as '<f4', found \(other.brief)")
        }
        guard case .bool(let fortranOrder) = field("fortran_order") else {
            throw NumpyHeaderProblem("'fortran_order' must be True or False, found \(field("fortran_order").brief)")
        }
        guard case .tuple(let items) = field("shape") else {
            throw NumpyHeaderProblem("'shape' must be a tuple of integers, found \(field("shape").brief)")
        }
        let shape = try items.map { item -> Int in
            guard case .integer(let digits) = item, let value = Int(digits), value >= 0 else {
                throw NumpyHeaderProblem("'shape' \(field("shape").brief) has dimension \(item.brief); expected a non-negative integer below 2^63")
            }
            return value
        }
        return (dataType, shape, fortranOrder)
    }

    /// The header as a message shows it: trimmed, and cut if long.
    private static func quoted(_ header: String) -> String {
        let trimmed = header.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > 120 ? String(trimmed.prefix(120)) + "…" : trimmed
    }
}
