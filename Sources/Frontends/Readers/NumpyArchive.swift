import CZlib
import Foundation
import ONNXExportIR

/// Where a `.npy` header is read from: a file, or the first bytes of a `.npz` member.
protocol NumpyByteSource {
    var size: Int { get }
    func readBytes(at offset: Int, count: Int) throws -> [UInt8]
}

extension ReadOnlyFile: NumpyByteSource {}

/// The first bytes of a zip member (enough for any header `NumpyFile` accepts), with the
/// member's full uncompressed size.
struct NumpyMemberPrefix: NumpyByteSource {
    let prefix: [UInt8]
    let size: Int
    let name: String

    func readBytes(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + count <= prefix.count else {
            throw ExportError("\(name): header bytes \(offset)..<\(offset + count) lie past the \(prefix.count) read")
        }
        return Array(prefix[offset..<(offset + count)])
    }
}

/// `.npz` archives (`np.savez`: stored members, `np.savez_compressed`: deflated ones): every
/// `NAME.npy` member becomes tensor `NAME`. Only each member's header is read (inflating just its
/// first bytes when compressed); the data stays a lazy file range or an inflating producer.
enum NumpyArchive {
    /// Enough for the 12-byte preamble and the largest header `NumpyFile` accepts.
    static let prefixLength = 12 + NumpyFile.maximumHeaderLength

    static func read(_ path: String) throws -> [String: TensorData] {
        let archive = try ZipArchive(path: path)
        var tensors: [String: TensorData] = [:]
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let data = try archive.locate(entry)
            let name = String(entry.name.dropLast(4))
            let prefix = try memberPrefix(data, count: min(prefixLength, entry.uncompressedSize))
            let header = try NumpyFile(source: NumpyMemberPrefix(prefix: prefix, size: entry.uncompressedSize, name: "\(path) [\(entry.name)]"),
                                       path: "\(path) [\(entry.name)]")
            // Fortran order: a 2-D array is the transpose of the C-order array of the reversed shape.
            let transposed = header.fortranOrder && header.shape.filter({ $0 > 1 }).count > 1
            guard !transposed || header.shape.count == 2 else {
                throw ExportError("\(path) [\(entry.name)]: array of shape \(header.shape) is stored in Fortran order; only 2-D Fortran-order arrays are supported")
            }
            var tensor = try data.tensor(byteOffset: header.dataOffset, dtype: header.dataType,
                                         shape: transposed ? header.shape.reversed() : header.shape)
            if transposed { tensor = try tensor.transposed() }
            tensors[name] = tensor
        }
        guard !tensors.isEmpty else { throw ExportError("\(path): the archive holds no .npy members") }
        return tensors
    }

    /// The first `count` uncompressed bytes of a member, inflating no more than needed.
    static func memberPrefix(_ data: ZipEntryData, count: Int) throws -> [UInt8] {
        if data.isStored {
            return try ReadOnlyFile(path: data.archivePath).readBytes(at: data.data.offset, count: count)
        }
        struct Enough: Error {}
        var bytes: [UInt8] = []
        do {
            try ZipInflation(archivePath: data.archivePath, entry: data.entry, compressed: data.data).run { chunk in
                bytes.append(contentsOf: chunk.prefix(count - bytes.count))
                if bytes.count >= count { throw Enough() }
            }
        } catch is Enough {}
        return bytes
    }
}
