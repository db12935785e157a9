import Testing
@testable import ONNXExportFrontends

/// The protobuf wire decoder and the bundle messages it reads, on bytes TensorFlow writes and on
/// bytes it does not.
@Suite struct TensorBundleProtoWireTests {
    @Test func decodesTheHeaderTensorFlowWrites() throws {
        // Observed BundleHeaderProto bytes: num_shards 1, version { producer 1 }.
        let header = try BundleHeader([0x08, 0x01, 0x1a, 0x02, 0x08, 0x01][...])
        #expect(header.shardCount == 1)
        #expect(header.endianness == 0)
        #expect(header.minConsumer == 0)
    }

    @Test func decodesAnEntry() throws {
        let bytes = BundleBytes.entry(dtype: 19, shape: [3, 0, 7], shard: 2, offset: 300, size: 0, crcOf: [1, 2, 3])
        let entry = try BundleEntry(bytes[...])
        #expect(entry.dtype == 19)
        #expect(entry.shape == [3, 0, 7])
        #expect(entry.shardID == 2)
        #expect(entry.offset == 300)
        #expect(entry.size == 0)
        #expect(entry.maskedCRC == CRC32C.mask(CRC32C.checksum([1, 2, 3])))
        #expect(entry.sliceCount == 0)
    }

    @Test func varints() throws {
        var reader = ProtoWireReader([0x96, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        #expect(try reader.readVarint() == 150)
        #expect(try reader.readVarint() == UInt64.max)
        #expect(reader.isAtEnd)
    }

    @Test func varintTooLong() {
        var reader = ProtoWireReader([UInt8](repeating: 0xff, count: 10) + [0x02])
        let error = #expect(throws: WireFormatError.self) { _ = try reader.readVarint() }
        #expect(error?.detail.contains("does not fit in 64 bits") == true)
    }

    @Test func varintRunningPastTheEnd() {
        var reader = ProtoWireReader([0x80, 0x80])
        let error = #expect(throws: WireFormatError.self) { _ = try reader.readVarint() }
        #expect(error?.detail.contains("runs past the end") == true)
    }

    @Test func lengthPastTheEnd() {
        var reader = ProtoWireReader([0x0a, 0x05, 0x01])
        let error = #expect(throws: WireFormatError.self) {
            _ = try reader.nextField()
            _ = try reader.readLengthDelimited()
        }
        #expect(error?.detail.contains("claims 5 bytes but only 1 remain") == true)
    }

    @Test func skipsEveryWireTypeButGroups() throws {
        let bytes = BundleBytes.field(20, varint: 300) + [0xa9, 0x01] + [UInt8](repeating: 9, count: 8)  // field 21, fixed64
            + BundleBytes.field(22, bytes: [1, 2]) + BundleBytes.field(23, fixed32: 7) + BundleBytes.field(1, varint: 3)
        var reader = ProtoWireReader(bytes)
        var numbers: [UInt64] = []
        while let field = try reader.nextField() {
            numbers.append(field.number)
            try reader.skip(field.wireType)
        }
        #expect(numbers == [20, 21, 22, 23, 1])

        var groups = ProtoWireReader([0x0b])  // field 1, start group
        let error = #expect(throws: WireFormatError.self) {
            let field = try #require(try groups.nextField())
            try groups.skip(field.wireType)
        }
        #expect(error?.detail.contains("groups") == true)
    }

    @Test func undefinedWireTypeAndFieldZero() {
        var six = ProtoWireReader([0x0e])
        #expect(throws: WireFormatError.self) { _ = try six.nextField() }
        var zero = ProtoWireReader([0x00, 0x01])
        #expect(throws: WireFormatError.self) { _ = try zero.nextField() }
    }

    @Test func unknownRankAndUnknownDimensionAreRefused() {
        let unknownRank = BundleBytes.field(2, bytes: BundleBytes.field(3, varint: 1))
        #expect(throws: WireFormatError.self) { _ = try BundleEntry(unknownRank[...]) }
        let minusOne = BundleBytes.field(2, bytes: BundleBytes.field(2, bytes: BundleBytes.field(1, varint: UInt64(bitPattern: -1))))
        let error = #expect(throws: WireFormatError.self) { _ = try BundleEntry(minusOne[...]) }
        #expect(error?.detail.contains("is -1") == true)
    }

    @Test func blockWithTooManyRestarts() {
        let block: [UInt8] = [0, 0, 0, 0] + BundleBytes.fixed32(100)
        let error = #expect(throws: WireFormatError.self) { _ = try TensorBundleBlock.entries(block) }
        #expect(error?.detail.contains("100 restart points") == true)
    }

    @Test func blockEntrySharingMoreThanThePreviousKey() {
        let block: [UInt8] = [3, 1, 0, 0x61] + BundleBytes.fixed32(0) + BundleBytes.fixed32(1)
        let error = #expect(throws: WireFormatError.self) { _ = try TensorBundleBlock.entries(block) }
        #expect(error?.detail.contains("shares 3 bytes") == true)
    }
}
