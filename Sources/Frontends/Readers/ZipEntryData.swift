import ONNXExportIR

/// A zip entry whose data has been located and checked to lie inside the file.
///
/// Small entries (a pickle, a byte-order marker) are read whole with `readAll`, which always
/// checks the CRC-32. Tensor bytes are handed out lazily with `tensor`: a file region for a stored
/// entry, so the writer can copy it with `copy_file_range`, carrying the entry's CRC-32 check
/// (`ZipStoredEntryCheck`, one for all the tensors that view the entry, run beside the copy), or a
/// producer that inflates a deflated entry in bounded chunks while the tensor streams and checks
/// its length and CRC-32 as it goes.
struct ZipEntryData: Sendable {
    let archivePath: String
    let entry: ZipEntry
    /// The entry's bytes as they lie in the file (compressed for deflate).
    let data: FileRegion
    /// A stored entry's CRC-32 check, shared by every tensor made from this value; nil for a
    /// deflated entry (inflating checks it) and for a recorded CRC of 0 ("not computed").
    let storedCheck: ZipStoredEntryCheck?

    init(archivePath: String, entry: ZipEntry, data: FileRegion) {
        self.archivePath = archivePath
        self.entry = entry
        self.data = data
        storedCheck = entry.method == ZipEntry.stored && entry.crc32 != 0
            ? ZipStoredEntryCheck(archivePath: archivePath, entry: entry, data: data) : nil
    }

    var isStored: Bool { entry.method == ZipEntry.stored }

    /// The whole entry, uncompressed; refused if it declares more than `limit` bytes.
    func readAll(limit: Int) throws -> [UInt8] {
        guard entry.uncompressedSize <= limit else {
            throw ExportError("\(archivePath): zip entry '\(entry.name)' declares \(entry.uncompressedSize) bytes,"
                + " more than the \(limit) this record can need")
        }
        if isStored {
            let bytes = try ReadOnlyFile(path: archivePath).readBytes(at: data.offset, count: data.length)
            var crc = ZipCRC32()
            crc.update(bytes)
            try ZipInflation.checkCRC(crc.value, entry: entry, archivePath: archivePath)
            return bytes
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.uncompressedSize)
        try ZipInflation(archivePath: archivePath, entry: entry, compressed: data).run { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// A tensor of `dtype` and `shape` whose bytes start `byteOffset` bytes into the entry's
    /// uncompressed contents; an error if they run past its end.
    func tensor(byteOffset: Int, dtype: DataType, shape: [Int]) throws -> TensorData {
        guard let length = Self.byteCount(dtype: dtype, shape: shape) else {
            throw ExportError("\(archivePath): zip entry '\(entry.name)': \(dtype)\(shape) is too large to count in 64 bits")
        }
        guard byteOffset >= 0, let end = ZipFields.sum(byteOffset, length), end <= entry.uncompressedSize else {
            throw ExportError("\(archivePath): zip entry '\(entry.name)' holds \(entry.uncompressedSize) bytes,"
                + " too few for \(length) bytes of \(dtype)\(shape) at byte \(byteOffset)")
        }
        if isStored {
            return try .file(FileRegion(path: archivePath, offset: data.offset + byteOffset, length: length, integrity: storedCheck),
                             dtype: dtype, shape: shape)
        }
        let slice = ZipInflatedSlice(archivePath: archivePath, entry: entry, compressed: data, start: byteOffset, length: length)
        return try .produced(slice, dtype: dtype, shape: shape)
    }

    /// `element size × product(shape)`, or nil on overflow or a negative dimension. Every partial
    /// product here bounds the one `TensorData.byteCount` computes, so a shape accepted here
    /// cannot trap there.
    static func byteCount(dtype: DataType, shape: [Int]) -> Int? {
        var count = dtype.byteSize
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
