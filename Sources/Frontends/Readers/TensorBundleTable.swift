import ONNXExportIR

/// Reads the key/value pairs of a TensorFlow checkpoint's `.index` file, a LevelDB-format SSTable
/// (`tensorflow/core/lib/io/{format,table}.cc`).
///
/// The file is data blocks, a metaindex block, an index block, and a 48-byte footer holding the
/// handles (offset, size) of the last two and a magic number. Every block is followed by a
/// compression-type byte and the masked CRC32C of its contents and that byte; both are checked
/// here, so a flipped bit in the index is reported instead of producing a wrong shape or offset.
/// Bundles are written uncompressed (`BundleWriter` sets `kNoCompression`), so a snappy block is
/// refused with a message saying so rather than decoded.
enum TensorBundleTable {
    static let footerSize = 48
    /// `kTableMagicNumber`, stored as two little-endian fixed32 halves at the end of the footer.
    static let magic: UInt64 = 0xdb47_7524_8b80_fb57
    /// The compression byte and the masked CRC32C after each block.
    static let blockTrailerSize = 5

    /// Where a block lies in the file; `size` excludes the 5-byte trailer.
    struct BlockHandle {
        var offset: Int
        var size: Int
    }

    /// Every entry of the table, in key order (the order the writer stored them).
    static func entries(of file: ReadOnlyFile) throws -> [TensorBundleBlock.Entry] {
        let indexHandle = try footer(of: file)
        let indexBlock = try readBlock(indexHandle, of: file, what: "index block")
        let index: [TensorBundleBlock.Entry]
        do {
            index = try TensorBundleBlock.entries(indexBlock)
        } catch let error as WireFormatError {
            throw ExportError("\(file.path): index block at byte \(indexHandle.offset) is malformed: \(error.detail)")
        }

        var result: [TensorBundleBlock.Entry] = []
        var lastKey: [UInt8]?
        for (number, indexEntry) in index.enumerated() {
            let handle: BlockHandle
            do {
                handle = try blockHandle(indexEntry.value)
            } catch let error as WireFormatError {
                throw ExportError("\(file.path): index entry \(number) does not hold a block handle: \(error.detail)")
            }
            let contents = try readBlock(handle, of: file, what: "data block \(number)")
            do {
                let entries = try TensorBundleBlock.entries(contents, after: lastKey)
                lastKey = entries.last?.key ?? lastKey
                result += entries
            } catch let error as WireFormatError {
                throw ExportError("\(file.path): data block \(number) at byte \(handle.offset) is malformed: \(error.detail)")
            }
        }
        return result
    }

    /// Checks the footer's size and magic number and returns the index block's handle.
    private static func footer(of file: ReadOnlyFile) throws -> BlockHandle {
        guard file.size >= footerSize else {
            throw ExportError("\(file.path): is only \(file.size) bytes; a TensorFlow checkpoint index ends with a \(footerSize)-byte footer."
                + " Is the file truncated?")
        }
        let bytes = try file.readBytes(at: file.size - footerSize, count: footerSize)
        let found = bytes[40..<48].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard found == magic else {
            throw ExportError("\(file.path): does not end with the table magic number 0x\(String(magic, radix: 16))"
                + " (found 0x\(String(found, radix: 16))); is this a TensorFlow checkpoint .index file, or is it truncated?")
        }
        var reader = ProtoWireReader(bytes[0..<40])
        do {
            _ = try blockHandle(reading: &reader)  // the metaindex block: TensorFlow bundles leave it empty
            return try blockHandle(reading: &reader)
        } catch let error as WireFormatError {
            throw ExportError("\(file.path): footer does not hold two block handles: \(error.detail)")
        }
    }

    /// The contents of the block at `handle`, after checking its bounds, CRC and compression.
    private static func readBlock(_ handle: BlockHandle, of file: ReadOnlyFile, what: String) throws -> [UInt8] {
        let tableEnd = file.size - footerSize
        guard handle.offset <= tableEnd, handle.size <= tableEnd - handle.offset,
              blockTrailerSize <= tableEnd - handle.offset - handle.size else {
            throw ExportError("\(file.path): \(what) at byte \(handle.offset) with \(handle.size) bytes (plus a \(blockTrailerSize)-byte trailer)"
                + " runs past the table, which ends at byte \(tableEnd); is the file truncated?")
        }
        var block = try file.readBytes(at: handle.offset, count: handle.size + blockTrailerSize)
        let type = block[handle.size]
        let stored = TensorBundleBlock.readUInt32(block, at: handle.size + 1)
        let actual = CRC32C.checksum(Array(block[0...handle.size]))
        guard CRC32C.unmask(stored) == actual else {
            throw ExportError("\(file.path): \(what) at byte \(handle.offset) fails its CRC32C check"
                + " (stored 0x\(hex(stored)) masked, computed 0x\(hex(CRC32C.mask(actual)))); the index file is corrupt")
        }
        switch type {
        case 0:
            block.removeLast(blockTrailerSize)
            return block
        case 1:
            throw ExportError("\(file.path): \(what) at byte \(handle.offset) is snappy-compressed (compression type 1);"
                + " TensorFlow writes checkpoint bundles uncompressed and this reader does not decode snappy")
        default:
            throw ExportError("\(file.path): \(what) at byte \(handle.offset) has unknown compression type \(type);"
                + " expected 0 (none)")
        }
    }

    private static func blockHandle(_ value: ArraySlice<UInt8>) throws -> BlockHandle {
        var reader = ProtoWireReader(value)
        return try blockHandle(reading: &reader)
    }

    private static func blockHandle(reading reader: inout ProtoWireReader) throws -> BlockHandle {
        let offset = try reader.readNonNegativeInt("block offset")
        let size = try reader.readNonNegativeInt("block size")
        return BlockHandle(offset: offset, size: size)
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
