import CKernels
import CZlib
import Testing
@testable import ONNXExportFrontends

/// The zip CRC-32's carry-less multiplication path held to zlib's `crc32`, the reference it
/// replaces: every length around the fold boundaries, at every alignment, from several starting
/// registers, and in any chunking.
@Suite struct ZipCRC32Tests {
    private static let bytes: [UInt8] = (0..<(1 << 16) + 80).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }

    private static func zlib(_ start: UInt32, _ slice: ArraySlice<UInt8>) -> UInt32 {
        slice.withUnsafeBytes { raw in
            UInt32(truncatingIfNeeded: crc32(uLong(start), raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(raw.count)))
        }
    }

    @Test func checkValue() {
        #expect(ZipCRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipCRC32.checksum([]) == 0)
        #expect(ZipCRC32.checksum([UInt8](repeating: 0, count: 4096)) == Self.zlib(0, [UInt8](repeating: 0, count: 4096)[...]))
    }

    /// Lengths 0...300 (under 64 bytes zlib serves; then one to four lanes and 16-byte tails) at
    /// starts 0...15, continuing from 0, a typical register and all ones.
    @Test func carrylessPathAgreesWithZlib() {
        for start in 0..<16 {
            for length in 0...300 {
                let slice = Self.bytes[start ..< start + length]
                for previous: UInt32 in [0, 0x1234_5678, 0xFFFF_FFFF] {
                    var register = ~previous
                    let used = slice.withUnsafeBytes { oe_crc32_hardware(&register, $0.baseAddress, $0.count) }
                    if used != 0 {
                        #expect(~register == Self.zlib(previous, slice), "start \(start) length \(length) from \(previous)")
                    } else {
                        #expect(length < 64 || register == ~previous)
                    }
                }
            }
        }
    }

    @Test func chunkingDoesNotChangeTheResult() {
        let whole = Self.zlib(0, Self.bytes[...])
        #expect(ZipCRC32.checksum(Self.bytes) == whole)
        for chunk in [1, 63, 64, 65, 1000, 4096, 65_536] {
            var crc = ZipCRC32()
            var start = 0
            while start < Self.bytes.count {
                let end = min(start + chunk, Self.bytes.count)
                Self.bytes[start..<end].withUnsafeBytes { crc.update($0) }
                start = end
            }
            #expect(crc.value == whole, "chunks of \(chunk)")
        }
    }
}
