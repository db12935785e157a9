/// The two messages of `tensorflow/core/protobuf/tensor_bundle.proto`, decoded by hand with
/// `ProtoWireReader` (proto3: absent fields are zero). Unknown fields are skipped, as protobuf
/// requires, so bundles from newer TensorFlow versions still read.

/// `BundleHeaderProto`, the value of the table's first key `""`.
struct BundleHeader {
    /// The number of `.data-*` shard files.
    var shardCount = 0
    /// `LITTLE = 0`, `BIG = 1`.
    var endianness: UInt64 = 0
    /// `VersionDef.min_consumer`: the oldest reader version allowed to read the bundle.
    var minConsumer: UInt64 = 0

    init(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtoWireReader(bytes)
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try ProtoWireReader.expect(field.wireType, .varint, field: "num_shards")
                shardCount = try reader.readNonNegativeInt("num_shards")
            case 2:
                try ProtoWireReader.expect(field.wireType, .varint, field: "endianness")
                endianness = try reader.readVarint()
            case 3:
                try ProtoWireReader.expect(field.wireType, .lengthDelimited, field: "version")
                var version = ProtoWireReader(try reader.readLengthDelimited())
                while let inner = try version.nextField() {
                    if inner.number == 2 && inner.wireType == .varint {
                        minConsumer = try version.readVarint()
                    } else {
                        try version.skip(inner.wireType)
                    }
                }
            default:
                try reader.skip(field.wireType)
            }
        }
    }
}

/// `BundleEntryProto`: where one tensor's bytes are and what they hold.
struct BundleEntry {
    var dtype: UInt64 = 0
    var shape: [Int] = []
    var shardID = 0
    var offset = 0
    var size = 0
    /// The masked CRC32C of the tensor's bytes.
    var maskedCRC: UInt32 = 0
    /// Number of `TensorSliceProto`s: a partitioned variable stored in pieces.
    var sliceCount = 0

    init(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtoWireReader(bytes)
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try ProtoWireReader.expect(field.wireType, .varint, field: "dtype")
                dtype = try reader.readVarint()
            case 2:
                try ProtoWireReader.expect(field.wireType, .lengthDelimited, field: "shape")
                shape = try Self.shape(try reader.readLengthDelimited())
            case 3:
                try ProtoWireReader.expect(field.wireType, .varint, field: "shard_id")
                shardID = try reader.readNonNegativeInt("shard_id")
            case 4:
                try ProtoWireReader.expect(field.wireType, .varint, field: "offset")
                offset = try reader.readNonNegativeInt("offset")
            case 5:
                try ProtoWireReader.expect(field.wireType, .varint, field: "size")
                size = try reader.readNonNegativeInt("size")
            case 6:
                try ProtoWireReader.expect(field.wireType, .fixed32, field: "crc32c")
                maskedCRC = try reader.readFixed32()
            case 7:
                try ProtoWireReader.expect(field.wireType, .lengthDelimited, field: "slices")
                _ = try reader.readLengthDelimited()
                sliceCount += 1
            default:
                try reader.skip(field.wireType)
            }
        }
    }

    /// `TensorShapeProto`: `dim` (2) is repeated `Dim { size = 1; name = 2 }`, `unknown_rank` is 3.
    /// A checkpoint always knows its shapes, so an unknown rank or a `-1` dimension is an error.
    private static func shape(_ bytes: ArraySlice<UInt8>) throws -> [Int] {
        var reader = ProtoWireReader(bytes)
        var dims: [Int] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 2:
                try ProtoWireReader.expect(field.wireType, .lengthDelimited, field: "shape.dim")
                var dim = ProtoWireReader(try reader.readLengthDelimited())
                var size = 0
                while let inner = try dim.nextField() {
                    if inner.number == 1 {
                        try ProtoWireReader.expect(inner.wireType, .varint, field: "shape.dim.size")
                        let raw = try dim.readVarint()
                        guard raw <= UInt64(Int.max) else {
                            throw WireFormatError("shape dimension \(dims.count) is \(Int64(bitPattern: raw)), expected a known size of 0 or more")
                        }
                        size = Int(raw)
                    } else {
                        try dim.skip(inner.wireType)
                    }
                }
                dims.append(size)
            case 3:
                try ProtoWireReader.expect(field.wireType, .varint, field: "shape.unknown_rank")
                if try reader.readVarint() != 0 { throw WireFormatError("shape has unknown rank; a saved tensor must have a known shape") }
            default:
                try reader.skip(field.wireType)
            }
        }
        return dims
    }
}
