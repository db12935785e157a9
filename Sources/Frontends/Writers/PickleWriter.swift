/// Emits the protocol-2 pickle of a PyTorch state_dict: an `OrderedDict` of tensors rebuilt by
/// `torch._utils._rebuild_tensor_v2` from storages named by persistent ids, exactly the shapes
/// `torch.save` writes, so `torch.load(weights_only=True)` accepts it.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2

    struct Tensor {
        var name: String
        var storageClass: String
        var storageKey: String
        var elements: Int
        var shape: [Int]
    }

    static func stateDict(_ tensors: [Tensor]) -> [UInt8] {
        var p = PickleWriter()
        p.global("collections", "OrderedDict")
        p.op(0x29)             // EMPTY_TUPLE
        p.op(0x52)             // REDUCE
        p.op(0x28)             // MARK
        for t in tensors {
            p.string(t.name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(0x28)         // MARK: the rebuild arguments
            p.op(0x28)         // MARK: persistent id ('storage', class, key, 'cpu', numel)
            p.string("storage")
            p.global("torch", t.storageClass)
            p.string(t.storageKey)
            p.string("cpu")
            p.int(t.elements)
            p.op(0x74)         // TUPLE
            p.op(0x51)         // BINPERSID
            p.int(0)           // storage offset
            p.tuple(t.shape)
            p.tuple(contiguousStrides(t.shape))
            p.op(0x89)         // NEWFALSE: requires_grad
            p.global("collections", "OrderedDict")
            p.op(0x29)
            p.op(0x52)         // backward hooks: OrderedDict()
            p.op(0x74)         // TUPLE
            p.op(0x52)         // REDUCE
        }
        p.op(0x75)             // SETITEMS
        p.op(0x2e)             // STOP
        return p.bytes
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for i in shape.indices.reversed() { strides[i] = step; step *= max(shape[i], 1) }
        return strides
    }

    mutating func op(_ code: UInt8) { bytes.append(code) }

    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)  // GLOBAL
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58)  // BINUNICODE
        appendLittleEndian(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 {
            bytes += [0x4b, UInt8(v)]                        // BININT1
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            bytes.append(0x4a)                                // BININT
            appendLittleEndian(UInt32(bitPattern: Int32(v)))
        } else {
            bytes += [0x8a, 8]                                // LONG1, 8 bytes two's complement
            appendLittleEndian(UInt64(bitPattern: Int64(v)))
        }
    }

    mutating func tuple(_ values: [Int]) {
        if values.isEmpty { op(0x29); return }
        op(0x28)
        for v in values { int(v) }
        op(0x74)
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
}
