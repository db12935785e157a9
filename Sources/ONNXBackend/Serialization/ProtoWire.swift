import COnnxProto
import CProtobufC

/// The few protobuf wire-format pieces the serializer writes by hand around protobuf-c's output.
enum ProtoWire {
    /// The key of a length-delimited field (wire type 2) with a small field number.
    static func lengthDelimitedTag(_ field: Int) -> UInt8 { UInt8(field << 3 | 2) }

    static func varint(_ value: Int) -> [UInt8] {
        var v = UInt64(value)
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7f)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    /// Bytes taken by tag + length prefix + `length` bytes of payload.
    static func fieldSize(payload length: Int) -> Int { 1 + varint(length).count + length }

    /// Packs any protobuf-c message into bytes.
    static func pack<T>(_ message: UnsafeMutablePointer<T>) -> [UInt8] {
        message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { m in
            let size = protobuf_c_message_get_packed_size(m)
            var bytes = [UInt8](repeating: 0, count: size)
            let written = bytes.withUnsafeMutableBufferPointer { protobuf_c_message_pack(m, $0.baseAddress!) }
            return Array(bytes[0..<written])
        }
    }
}
