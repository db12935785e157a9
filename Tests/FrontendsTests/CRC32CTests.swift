import Testing
@testable import ONNXExportFrontends

/// CRC-32C against published vectors (RFC 3720 B.4 and the standard check value) and LevelDB's
/// mask, which TensorFlow stores.
@Suite struct CRC32CTests {
    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func chunkingDoesNotChangeTheResult() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            var crc = CRC32C()
            crc.update(Array(bytes[..<split]))
            crc.update(Array(bytes[split...]))
            #expect(crc.value == whole, "split at \(split)")
        }
    }

    /// Where the CPU's CRC instruction serves `checksum`, the table code must agree with it (and
    /// with the vectors, the one way every machine tests): every length 0...80 at odd starts.
    @Test func instructionAndTablesAgree() {
        let bytes = (0..<96).map { UInt8(truncatingIfNeeded: $0 &* 197 &+ 13) }
        #expect(bytes.withUnsafeBytes { CRC32C.extendWithTables(0, $0) } == CRC32C.checksum(bytes))
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.extendWithTables(0, $0) } == 0xE306_9283)
        for start in [0, 1, 3, 7] {
            for length in 0...80 {
                let slice = Array(bytes[start..<(start + min(length, bytes.count - start))])
                var crc = CRC32C()
                crc.update(slice)
                #expect(slice.withUnsafeBytes { CRC32C.extendWithTables(0, $0) } == crc.value, "start \(start) length \(length)")
            }
        }
    }

    @Test func maskMatchesLevelDB() {
        // leveldb crc32c_test.cc: Mask(crc) != crc, Mask(Mask(crc)) != crc, Unmask(Mask(crc)) == crc.
        let crc = CRC32C.checksum(Array("foo".utf8))
        #expect(CRC32C.mask(crc) != crc)
        #expect(CRC32C.mask(CRC32C.mask(crc)) != crc)
        #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
        #expect(CRC32C.unmask(CRC32C.unmask(CRC32C.mask(CRC32C.mask(crc)))) == crc)
        // The masked CRC of no bytes, which TensorFlow stores for empty tensors.
        #expect(CRC32C.mask(0) == 0xA282_EAD8)
        // rotate right by 15, then add the constant.
        #expect(CRC32C.mask(0x0000_8000) == 0x0000_0001 &+ 0xA282_EAD8)
    }
}
