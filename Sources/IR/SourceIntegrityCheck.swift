/// A check that checkpoint bytes are what their writer recorded (a stored zip entry's CRC-32),
/// attached by a reader to the `FileRegion`s of the tensors that view them.
///
/// One check covers one checksummed record, whichever parts of it its tensors view: several
/// tensors may slice one storage, and bytes none of them uses still count towards the record's
/// checksum. So a check reads its whole record, once, however often it is asked.
public protocol SourceIntegrityCheck: AnyObject, Sendable {
    /// Reads and checks the record the first time; every later call repeats that outcome (an
    /// error naming the file and the record when its bytes do not match).
    func verify() throws
}

extension TensorData {
    /// The integrity checks of the file ranges this tensor's bytes come from (through its
    /// transforms), each once, in the order the tensor reads them.
    public var integrityChecks: [any SourceIntegrityCheck] {
        switch storage {
        case .file(let region): return region.integrity.map { [$0] } ?? []
        case .transformed(let base, _): return base.integrityChecks
        case .concatenated(let parts): return parts.flatMap(\.integrityChecks)
        case .inline, .produced: return []
        }
    }
}
