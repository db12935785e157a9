import ONNXExportIR

/// Writes an uncompressed zip the way PyTorch's `PyTorchStreamWriter` does: each entry's data
/// aligned to 64 bytes with an `FB` padding extra field, Zip64 records where sizes or offsets
/// pass 4 GiB. Entry bytes are streamed from their sources after a first pass computes the CRC-32.
final class ZipWriter {
    private let file: OutputFile
    private var central: [UInt8] = []
    private var entryCount = 0
    static let alignment = 64

    init(path: String) throws { file = try OutputFile(path: path) }

    /// Adds an entry whose bytes `produce` writes (called twice: once for the CRC, once to write,
    /// counted into `meter`).
    func add(_ name: String, size: Int, meter: ProgressMeter? = nil, produce: (TensorByteSink) throws -> Void) throws {
        let crcSink = CRC32Sink()
        try produce(crcSink)
        guard crcSink.count == size else { throw ExportError("\(file.path): entry \(name) produced \(crcSink.count) bytes, expected \(size)") }
        let offset = file.position
        let nameBytes = Array(name.utf8)
        let zip64 = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        var extra: [UInt8] = []
        if zip64 { extra += Self.zip64Extra(size: size, offset: nil) }
        let headerEnd = offset + 30 + nameBytes.count + extra.count + 4
        let padding = (Self.alignment - headerEnd % Self.alignment) % Self.alignment
        extra += [0x46, 0x42] + le16(padding) + [UInt8](repeating: 0x5a, count: padding)  // "FB" + 'Z' padding

        var local: [UInt8] = le32(0x0403_4b50) + le16(zip64 ? 45 : 20) + le16(0) + le16(0) + le16(0) + le16(0x21)
        local += le32(crcSink.crc) + le32(zip64 ? 0xFFFF_FFFF : size) + le32(zip64 ? 0xFFFF_FFFF : size)
        local += le16(nameBytes.count) + le16(extra.count) + nameBytes + extra
        try file.write(local)
        try file.counting(into: meter) { try produce(file) }
        try file.flush()

        let centralExtra = zip64 ? Self.zip64Extra(size: size, offset: offset) : []
        central += le32(0x0201_4b50) + le16(zip64 ? 45 : 20) + le16(zip64 ? 45 : 20) + le16(0) + le16(0) + le16(0) + le16(0x21)
        central += le32(crcSink.crc) + le32(zip64 ? 0xFFFF_FFFF : size) + le32(zip64 ? 0xFFFF_FFFF : size)
        central += le16(nameBytes.count) + le16(centralExtra.count) + le16(0) + le16(0) + le16(0) + le32(0)
        central += le32(zip64 ? 0xFFFF_FFFF : offset) + nameBytes + centralExtra
        entryCount += 1
    }

    func add(_ name: String, bytes: [UInt8]) throws {
        try add(name, size: bytes.count) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    /// Central directory, Zip64 end records (always, as PyTorch writes them), end record.
    func finish() throws {
        let centralOffset = file.position
        try file.write(central)
        let zip64End = file.position
        var record: [UInt8] = le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
        record += le64(entryCount) + le64(entryCount) + le64(central.count) + le64(centralOffset)
        record += le32(0x0706_4b50) + le32(0) + le64(zip64End) + le32(1)
        try file.write(record)
        let end: [UInt8] = le32(0x0605_4b50) + le16(0) + le16(0) + le16(min(entryCount, 0xFFFF)) + le16(min(entryCount, 0xFFFF))
            + le32(min(central.count, 0xFFFF_FFFF)) + le32(min(centralOffset, 0xFFFF_FFFF)) + le16(0)
        try file.write(end)
        try file.flush()
    }

    static func zip64Extra(size: Int, offset: Int?) -> [UInt8] {
        var body = le64(size) + le64(size)
        if let offset { body += le64(offset) }
        return le16(0x0001) + le16(body.count) + body
    }
}

private func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
private func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
private func le32(_ v: UInt32) -> [UInt8] { le32(Int(v)) }
private func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xff) } }

/// Counts bytes and computes their CRC-32 (the reader's `ZipCRC32`), discarding them.
final class CRC32Sink: TensorByteSink {
    private var checksum = ZipCRC32()
    private(set) var count = 0
    var crc: UInt32 { checksum.value }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        checksum.update(bytes)
        count += bytes.count
    }

    func copy(from region: FileRegion) throws { try copyByReading(region) }
}
