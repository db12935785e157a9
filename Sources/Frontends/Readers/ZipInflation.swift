import CZlib
import ONNXExportIR

/// Inflates one deflated zip entry in bounded chunks, checking it against the central directory.
///
/// zlib's raw inflate (`windowBits = -15`: no zlib or gzip wrapper, as zip stores deflate data)
/// reads at most `inputChunk` compressed bytes and produces at most `outputChunk` bytes at a time,
/// so memory stays bounded whatever the entry claims. Every chunk is counted before it is passed
/// on: an entry that inflates to more than its declared size fails at the first byte too many
/// (a zip bomb cannot run memory or time past that), one that inflates to fewer fails at the end
/// of its stream, and the CRC-32 of all inflated bytes must equal the recorded one.
struct ZipInflation {
    let archivePath: String
    let entry: ZipEntry
    /// The compressed bytes in the file.
    let compressed: FileRegion
    var inputChunk = 1 << 20
    var outputChunk = 1 << 20

    /// Calls `body` with each inflated chunk, in order, then checks length and CRC-32.
    func run(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fail = { (problem: String) in ExportError("\(archivePath): zip entry '\(entry.name)': \(problem)") }
        let file = try ReadOnlyFile(path: archivePath)
        let inputSize = max(1, min(inputChunk, compressed.length))
        let outputSize = max(1, outputChunk)
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inputSize)
        defer { input.deallocate() }
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: outputSize)
        defer { output.deallocate() }

        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw fail("zlib could not start inflating (status \(initStatus))") }
        defer { inflateEnd(&stream) }

        var consumed = 0, produced = 0
        var crc = ZipCRC32()
        while true {
            if stream.avail_in == 0, consumed < compressed.length {
                let n = min(inputSize, compressed.length - consumed)
                try file.read(into: UnsafeMutableRawBufferPointer(start: input, count: n), at: compressed.offset + consumed)
                consumed += n
                stream.next_in = input
                stream.avail_in = uInt(n)
            }
            stream.next_out = output
            stream.avail_out = uInt(outputSize)
            let status = inflate(&stream, Z_NO_FLUSH)
            let count = outputSize - Int(stream.avail_out)
            if count > 0 {
                guard count <= entry.uncompressedSize - produced else {
                    throw fail("inflates to more than the \(entry.uncompressedSize) bytes it claims; the archive is damaged or hostile")
                }
                produced += count
                let chunk = UnsafeRawBufferPointer(start: output, count: count)
                crc.update(chunk)
                try body(chunk)
            }
            switch status {
            case Z_STREAM_END:
                guard produced == entry.uncompressedSize else {
                    throw fail("inflates to \(produced) bytes, fewer than the \(entry.uncompressedSize) it claims; the archive is damaged")
                }
                try Self.checkCRC(crc.value, entry: entry, archivePath: archivePath)
                return
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0 && consumed == compressed.length:
                throw fail("its deflate data ends after \(compressed.length) bytes before the stream is complete; is the file truncated?")
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw fail("its deflate data is corrupt (zlib: \(detail)) after \(produced) inflated bytes")
            }
        }
    }

    /// Compares a computed CRC-32 with the one the central directory records for `entry`.
    ///
    /// A recorded 0 means "not computed": `torch.save` writes 0 for every record after
    /// `torch.serialization.set_crc32_options(False)`, and torch loads such files. Skipping it
    /// costs nothing in safety (the check guards against damage; a forger can write any CRC) and
    /// misses a real damaged entry only when its true CRC-32 happens to be 0.
    static func checkCRC(_ computed: UInt32, entry: ZipEntry, archivePath: String) throws {
        guard entry.crc32 != 0 else { return }
        guard computed == entry.crc32 else {
            throw ExportError("\(archivePath): zip entry '\(entry.name)' fails its CRC-32 check: its bytes give \(ZipFields.hex(computed)),"
                + " the central directory records \(ZipFields.hex(entry.crc32)); the archive is corrupt")
        }
    }
}
