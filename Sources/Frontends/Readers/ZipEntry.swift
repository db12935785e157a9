/// One file of a zip archive as its central directory describes it.
///
/// The central directory is authoritative: PyTorch (like any streaming writer) sets the
/// data-descriptor flag and leaves sizes and CRC zero in the local headers, and numpy puts
/// 0xFFFFFFFF there with the real values in a Zip64 extra field. Sizes and the local header
/// offset here are already resolved through the entry's Zip64 extra field.
struct ZipEntry: Sendable {
    var name: String
    /// The raw name bytes, compared with the local header's copy.
    var nameBytes: [UInt8]
    var flags: UInt16
    /// 0 stored, 8 deflated; others are refused when the entry is read.
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int

    static let stored: UInt16 = 0
    static let deflated: UInt16 = 8

    /// General-purpose flag bit 0 (traditional encryption) or bit 6 (strong encryption).
    var isEncrypted: Bool { flags & 0x0041 != 0 }

    /// How the method is named in messages.
    var methodDescription: String {
        switch method {
        case Self.stored: return "stored (0)"
        case Self.deflated: return "deflate (8)"
        case 1: return "shrink (1)"
        case 6: return "implode (6)"
        case 9: return "deflate64 (9)"
        case 12: return "bzip2 (12)"
        case 14: return "LZMA (14)"
        case 93: return "zstd (93)"
        case 95: return "xz (95)"
        case 99: return "AES encryption (99)"
        default: return "method \(method)"
        }
    }
}
