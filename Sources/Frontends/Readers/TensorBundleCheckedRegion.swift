import ONNXExportIR

/// A tensor's bytes in a checkpoint `.data-*` file, checked against the CRC32C the `.index`
/// recorded for them while they stream.
///
/// TensorFlow checks every tensor it restores the same way. Checking while streaming means the
/// bytes pass through memory once (in bounded chunks) instead of being read twice; the price is
/// that the sink has already received the bytes when a mismatch is found, which is harmless
/// because the exporter writes to a temporary file and a thrown error discards it.
struct TensorBundleCheckedRegion: TensorByteProducer {
    let region: FileRegion
    /// The masked CRC32C from the tensor's `BundleEntryProto`.
    let maskedCRC: UInt32
    let tensorName: String
    let indexPath: String
    var chunkSize = 4 << 20

    var identity: String { "\(region.path)@\(region.offset)+\(region.length) crc32c-checked" }
    var byteCount: Int { region.length }

    func stream(into sink: TensorByteSink) throws {
        let file = try ReadOnlyFile(path: region.path)
        var crc = CRC32C()
        var buffer = [UInt8](repeating: 0, count: max(1, min(chunkSize, region.length)))
        var done = 0
        while done < region.length {
            let n = min(buffer.count, region.length - done)
            try buffer.withUnsafeMutableBytes { raw in
                let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
                try file.read(into: chunk, at: region.offset + done)
                crc.update(UnsafeRawBufferPointer(chunk))
                try sink.write(UnsafeRawBufferPointer(chunk))
            }
            done += n
        }
        guard CRC32C.mask(crc.value) == maskedCRC else {
            throw ExportError("\(region.path): tensor '\(tensorName)' (bytes \(region.offset)..<\(region.offset + region.length))"
                + " fails its CRC32C check: computed 0x\(TensorBundleTable.hex(CRC32C.mask(crc.value))) masked,"
                + " \(indexPath) records 0x\(TensorBundleTable.hex(maskedCRC)); the data file is corrupt or belongs to another checkpoint")
        }
    }
}
