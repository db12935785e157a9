import CProtobufC
import ONNXExportIR

/// The few protobuf wire-format pieces the serializer writes by hand around protobuf-c's output,
/// and the one door through which anything is packed by protobuf-c.
enum ProtoWire {
    /// Readers (onnx, onnxruntime) refuse a protobuf of 2 GiB or more; protobuf-c 1.4.1 itself
    /// corrupts lengths at 4 GiB. Nothing this large is ever packed or written as one message.
    static let protobufLimit = 1 << 31

    /// The key of a length-delimited field (wire type 2). The serializer splices only fields
    /// 5, 7 and 9, whose keys fit one byte (`fieldSize` relies on that).
    static func lengthDelimitedTag(_ field: Int) -> UInt8 { UInt8(truncatingIfNeeded: field << 3 | 2) }

    static func varint(_ value: Int) -> [UInt8] {
        var v = UInt64(truncatingIfNeeded: value)
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7f)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    /// Key and length prefix of a length-delimited field with a one-byte key.
    static func fieldPrefix(_ field: Int, length: Int) -> [UInt8] { [lengthDelimitedTag(field)] + varint(length) }

    /// Bytes taken by a one-byte key + length prefix + `length` bytes of payload.
    static func fieldSize(payload length: Int) -> Int { 1 + varint(length).count + length }

    /// Packs a protobuf-c message into bytes; `what` names it in errors. Refuses 2 GiB and more
    /// (only tensor payloads could get there, and those are spliced in by the serializer).
    static func pack<T>(_ message: UnsafeMutablePointer<T>, _ what: @autoclosure () -> String) throws -> [UInt8] {
        try message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { m in
            let size = protobuf_c_message_get_packed_size(m)
            guard size < protobufLimit else {
                throw ExportError("\(what()) would take \(size) bytes, over protobuf's 2 GiB limit")
            }
            guard size > 0 else { return [] }
            var bytes = [UInt8](repeating: 0, count: size)
            let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return protobuf_c_message_pack(m, base)
            }
            guard written == size else {
                throw ExportError("\(what()): protobuf-c packed \(written) bytes after announcing \(size)")
            }
            return bytes
        }
    }
}
