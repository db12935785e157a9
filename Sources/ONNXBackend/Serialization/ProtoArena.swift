import COnnxProto
import CProtobufC
import Foundation
import ONNXExportIR

/// Owns every C allocation made while building protobuf-c messages (structs, pointer arrays,
/// strings) and frees them together, so message building never leaks or frees early:
/// protobuf-c reads the pointers until packing ends.
final class ProtoArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for p in allocations { free(p) } }

    /// A zeroed allocation of `count` values of `T`.
    func allocate<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        guard let raw = calloc(1, bytes) else { return UnsafeMutablePointer<T>.allocate(capacity: max(count, 1)) }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A message struct initialised by its generated `*_init` function (the `*__INIT` macros do
    /// not import into Swift).
    func message<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let p = allocate(T.self)
        initialize(p)
        return p
    }

    /// A NUL-terminated copy of `s`.
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(s.utf8CString)
        let p = allocate(CChar.self, count: utf8.count)
        utf8.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: utf8.count) }
        return p
    }

    /// A copy of `values` as a C array (nil for an empty list, as protobuf-c expects).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = allocate(T.self, count: values.count)
        for (i, v) in values.enumerated() { (p + i).initialize(to: v) }
        return p
    }

    /// A C array of string pointers.
    func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        array(values.map { Optional(string($0)) })
    }

    /// Bytes that protobuf-c packs as a `bytes` field.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let p = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { p.update(from: base, count: bytes.count) } }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }
}
