import ONNXExportIR

/// Where external tensors go in one data file: each distinct tensor once, at an offset aligned
/// for mapping. Several model files share one placement when they are written together (an
/// encoder-decoder's files), so a weight two graphs read is stored once and both files name
/// the same bytes.
final class DataPlacement {
    struct Slot {
        var data: TensorData
        var name: String
        var offset: Int
    }
    let fileName: String
    let alignment: Int
    private(set) var slots: [Slot] = []
    private var placed: [TensorData: Int] = [:]
    /// Bytes of the data file once every placed tensor is written.
    private(set) var byteCount = 0
    /// Bytes of the tensors alone, without the alignment padding between them.
    var payloadBytes: Int { slots.reduce(0) { $0 + $1.data.byteCount } }

    init(fileName: String, alignment: Int) { self.fileName = fileName; self.alignment = alignment }

    /// The location of `data`, placed after everything else the first time it is asked for.
    func location(of data: TensorData, name: String) -> ProtoMessages.ExternalLocation {
        if let i = placed[data] { return .init(file: fileName, offset: slots[i].offset, length: data.byteCount) }
        let offset = (byteCount + alignment - 1) / alignment * alignment
        slots.append(Slot(data: data, name: name, offset: offset))
        placed[data] = slots.count - 1
        byteCount = offset + data.byteCount
        return .init(file: fileName, offset: offset, length: data.byteCount)
    }
}
