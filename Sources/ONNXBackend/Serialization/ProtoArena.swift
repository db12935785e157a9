import CProtobufC
import ONNXExportIR

/// Owns every allocation made while building protobuf-c messages (structs, pointer arrays,
/// strings) and frees them together, so message building never leaks or frees early:
/// protobuf-c reads the pointers until packing ends. Messages built here are only packed, never
/// handed to protobuf-c's own free functions, so Swift's allocator is fine.
final class ProtoArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for p in allocations { p.deallocate() } }

    /// A zeroed allocation of `count` values of `T` (zero is every generated struct's empty state
    /// until its `*_init` runs, and NULL for pointer arrays).
    func allocate<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(MemoryLayout<T>.alignment, 16))
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A message struct set up by its generated `*_init` function (the `*__INIT` macros do not
    /// import into Swift), then filled in by `fill`.
    func message<T>(_ type: T.Type, _ fill: (UnsafeMutablePointer<T>) throws -> Void) rethrows -> UnsafeMutablePointer<T> {
        let p = allocate(T.self)
        try fill(p)
        return p
    }

    /// A NUL-terminated copy of `s`. protobuf-c reads `string` fields as C strings, so a NUL
    /// inside would silently cut the name short (two tensors could end up with one name):
    /// refuse it instead.
    func string(_ s: String) throws -> UnsafeMutablePointer<CChar> {
        guard !s.utf8.contains(0) else {
            throw ExportError("'\(s.replacingOccurrences(of: "\0", with: "\\0"))' contains a NUL character, which an ONNX name or string field cannot hold here")
        }
        let utf8 = s.utf8CString
        let p = allocate(CChar.self, count: utf8.count)
        for (i, c) in utf8.enumerated() { p[i] = c }
        return p
    }

    /// `string(s)`, or nil for an empty string so an optional field stays absent.
    func optionalString(_ s: String) throws -> UnsafeMutablePointer<CChar>? {
        s.isEmpty ? nil : try string(s)
    }

    /// A copy of `values` as a C array (nil for an empty list, as protobuf-c expects).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = allocate(T.self, count: values.count)
        for (i, v) in values.enumerated() { (p + i).initialize(to: v) }
        return p
    }

    /// A C array of string pointers.
    func strings(_ values: [String]) throws -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        array(try values.map { Optional(try string($0)) })
    }

    /// Bytes that protobuf-c packs as a `bytes` field.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let p = allocate(UInt8.self, count: bytes.count)
        for (i, b) in bytes.enumerated() { p[i] = b }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }
}
