import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// A fresh folder under the system temp directory for zip and PyTorch tests, removed by `remove()`.
struct ZipTempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("zip-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds zip archives byte by byte, with knobs to make each field lie.
///
/// Deflated entries use deflate's stored blocks (BTYPE 00): a valid deflate stream any inflater
/// reads, made without a compressor. Real compressed streams come from the Python fixtures.
struct ZipBuilder {
    struct Entry {
        var name: String
        var data: [UInt8]
        /// 0 stored, 8 deflated (stored blocks); anything else writes `data` as the payload.
        var method: UInt16 = 0
        /// The payload bytes to write instead of the encoded `data`.
        var payload: [UInt8]? = nil
        var declaredSize: Int? = nil
        var crc: UInt32? = nil
        var flags: UInt16 = 0
        /// Bytes of the local header's extra field (PyTorch's "FB" padding, say).
        var localExtra: [UInt8] = []
        /// Writes 0xFFFFFFFF for sizes and offset in the central header, the values in a Zip64 extra field.
        var zip64Central = false
        /// A Zip64 extra field body to write verbatim (with `zip64Central`), to make it short.
        var zip64CentralBody: [UInt8]? = nil
        var localName: String? = nil
        var localHeaderOffset: Int? = nil

        init(_ name: String, _ data: [UInt8], method: UInt16 = 0) {
            self.name = name; self.data = data; self.method = method
        }
    }

    var entries: [Entry] = []
    /// Writes a Zip64 end record and locator before the end record, as PyTorch does.
    var zip64End = false
    var comment: [UInt8] = []
    var entryCountOverride: Int? = nil
    var directoryOffsetOverride: Int? = nil
    var diskNumber: UInt16 = 0

    /// Where the last build put its central directory.
    private(set) var directoryOffset = 0

    init(_ entries: [Entry] = []) { self.entries = entries }

    mutating func bytes() -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let offset = out.count
            let payload = entry.payload ?? (entry.method == 8 ? Self.deflateStored(entry.data) : entry.data)
            let crc = entry.crc ?? ZipCRC32.checksum(entry.data)
            let size = entry.declaredSize ?? entry.data.count
            let name = Array(entry.name.utf8)
            let localName = Array((entry.localName ?? entry.name).utf8)
            out += le32(0x0403_4B50) + le16(20) + le16(Int(entry.flags)) + le16(Int(entry.method)) + le16(0) + le16(0)
            out += le32(Int(crc)) + le32(payload.count) + le32(size)
            out += le16(localName.count) + le16(entry.localExtra.count) + localName + entry.localExtra + payload

            let headerOffset = entry.localHeaderOffset ?? offset
            var extra: [UInt8] = []
            if entry.zip64Central {
                let body = entry.zip64CentralBody ?? (le64(size) + le64(payload.count) + le64(headerOffset))
                extra = le16(1) + le16(body.count) + body
            }
            central += le32(0x0201_4B50) + le16(45) + le16(20) + le16(Int(entry.flags)) + le16(Int(entry.method)) + le16(0) + le16(0)
            central += le32(Int(crc))
            central += entry.zip64Central ? le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) : le32(payload.count) + le32(size)
            central += le16(name.count) + le16(extra.count) + le16(0) + le16(0) + le16(0) + le32(0)
            central += entry.zip64Central ? le32(0xFFFF_FFFF) : le32(headerOffset)
            central += name + extra
        }
        directoryOffset = out.count
        out += central
        let count = entryCountOverride ?? entries.count
        let offset = directoryOffsetOverride ?? directoryOffset
        if zip64End {
            let recordOffset = out.count
            out += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            out += le64(count) + le64(count) + le64(central.count) + le64(offset)
            out += le32(0x0706_4B50) + le32(0) + le64(recordOffset) + le32(1)
        }
        out += le32(0x0605_4B50) + le16(Int(diskNumber)) + le16(0)
        out += zip64End ? le16(0xFFFF) + le16(0xFFFF) + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
            : le16(count) + le16(count) + le32(central.count) + le32(offset)
        out += le16(comment.count) + comment
        return out
    }

    /// `data` as a deflate stream of stored blocks (at most 65,535 bytes each).
    static func deflateStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        repeat {
            let n = min(65_535, data.count - start)
            let final = start + n == data.count
            out += [final ? 1 : 0] + le16(n) + le16(~n & 0xFFFF) + data[start ..< start + n]
            start += n
        } while start < data.count
        return out
    }
}

fileprivate func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
fileprivate func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
fileprivate func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }

extension ZipBuilder {
    static func littleEndian16(_ v: Int) -> [UInt8] { le16(v) }
    static func littleEndian32(_ v: Int) -> [UInt8] { le32(v) }
    static func littleEndian64(_ v: Int) -> [UInt8] { le64(v) }

    /// Overwrites `bytes[offset...]` with `value` (a patch on a built archive).
    static func patch(_ bytes: inout [UInt8], at offset: Int, _ value: [UInt8]) {
        bytes.replaceSubrange(offset ..< offset + value.count, with: value)
    }

    /// Offset of the last occurrence of `signature` (a record's 4 bytes) in `bytes`.
    static func lastRecord(_ signature: UInt32, in bytes: [UInt8]) -> Int? {
        let pattern = le32(Int(signature))
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).reversed().first { Array(bytes[$0 ..< $0 + 4]) == pattern }
    }
}

/// A sink that records how bytes arrive, to check chunked streaming.
final class ChunkRecorder: TensorByteSink {
    private(set) var bytes: [UInt8] = []
    private(set) var writes = 0
    func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b); writes += 1 }
    func copy(from region: FileRegion) throws { try copyByReading(region) }
}
