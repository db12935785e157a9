/// Rewrites the block checksums of a tensor bundle `.index` so a mutated table passes the
/// reader's CRC32C check: without this, nearly every mutation of a block fails that one check and
/// the fuzzer never reaches the entries behind it (a tenth of the reader's code). Everything else
/// (footer, block handles, block layout, the `BundleEntryProto`s) reaches the reader as mutated;
/// the CRC check itself is covered by the broken-file unit tests.
///
/// Blocks are found as the reader finds them: the footer's handles, then the index block's
/// entries. Handles that do not parse or lie outside the table are left alone.
enum FuzzTableChecksums {
    static func fixed(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var table = Array(input)
        let footerSize = TensorBundleTable.footerSize
        guard table.count >= footerSize else { return table }
        var footer = ProtoWireReader(table[(table.count - footerSize)..<(table.count - footerSize + 40)])
        guard let metaindex = try? handle(&footer), let index = try? handle(&footer) else { return table }
        fix(metaindex, in: &table)
        guard let contents = fix(index, in: &table), let entries = try? TensorBundleBlock.entries(contents) else { return table }
        for entry in entries {
            var reader = ProtoWireReader(entry.value)
            if let data = try? handle(&reader) { fix(data, in: &table) }
        }
        return table
    }

    private static func handle(_ reader: inout ProtoWireReader) throws -> TensorBundleTable.BlockHandle {
        TensorBundleTable.BlockHandle(offset: try reader.readNonNegativeInt("block offset"), size: try reader.readNonNegativeInt("block size"))
    }

    /// Stores the masked CRC32C of the block's contents and type byte in its trailer; returns
    /// the contents, or nil if the block and trailer do not fit before the footer.
    @discardableResult
    private static func fix(_ block: TensorBundleTable.BlockHandle, in table: inout [UInt8]) -> [UInt8]? {
        let end = table.count - TensorBundleTable.footerSize
        guard block.offset <= end, block.size <= end - block.offset,
              TensorBundleTable.blockTrailerSize <= end - block.offset - block.size else { return nil }
        let typeByte = block.offset + block.size
        let crc = CRC32C.mask(CRC32C.checksum(Array(table[block.offset...typeByte])))
        for i in 0..<4 { table[typeByte + 1 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return Array(table[block.offset..<typeByte])
    }
}
