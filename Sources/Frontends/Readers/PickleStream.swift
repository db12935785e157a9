import ONNXExportIR

/// Pickles that follow one another in a file, as the legacy `torch.save` format writes them (magic
/// number, protocol version, sys_info, the object, the storage keys, then raw storages), read one
/// at a time without reading the file whole.
///
/// A pickle does not say how long it is, and the storages after the last one may be gigabytes, so
/// each pickle is run on a window of the file that starts small and grows (×4) only while the
/// unpickler runs out of bytes, up to `maximumPickleSize`. The window is read afresh for each try:
/// the work is at most a few times the pickle's size, and memory is the pickle's, never the file's.
struct PickleStream {
    let file: ReadOnlyFile
    /// Where the next pickle starts.
    private(set) var offset: Int
    let maximumPickleSize: Int
    static let firstWindow = 64 << 10

    init(file: ReadOnlyFile, offset: Int = 0, maximumPickleSize: Int) {
        self.file = file
        self.offset = offset
        self.maximumPickleSize = maximumPickleSize
    }

    /// Runs the next pickle (`what` names it in messages) and moves past its STOP.
    mutating func next(_ what: String, storageIDs: PickleUnpickler.StorageIDs = .zip) throws -> PickleUnpickler.Result {
        let available = file.size - offset
        guard available > 0 else {
            throw ExportError("\(file.path): the file ends at byte \(offset), before \(what); is it truncated?")
        }
        let limit = min(available, maximumPickleSize)
        var window = min(limit, Self.firstWindow)
        while true {
            let bytes = try file.readBytes(at: offset, count: window)
            let input = PickleInput(bytes, origin: "\(file.path): \(what)", baseOffset: offset)
            var machine = PickleUnpickler(input: input, limits: PickleUnpickler.Limits(), storageIDs: storageIDs)
            do {
                let result = try machine.result()
                offset += result.end
                return result
            } catch where machine.input.ranOut && window < limit {
                window = limit / 4 < window ? limit : window * 4
            } catch where machine.input.ranOut && limit < available {
                throw ExportError("\(file.path): \(what) at byte \(offset) is longer than \(maximumPickleSize) bytes,"
                    + " more than a checkpoint's pickle can need; refusing it")
            }
        }
    }
}
