import ONNXExportIR

/// Streams a reader's tensors the way the exporter's serializer does (`TensorData.stream`, so
/// inflation, CRC checks and file ranges all run) into a sink that only counts, and checks that
/// every tensor delivers exactly the bytes its dtype and shape promise.
///
/// Bounded: tensors over `tensorLimit` bytes are skipped, so a valid but large declaration (a
/// small deflated member that inflates to gigabytes) does not make one run take seconds.
public enum FuzzDrain {
    public static let tensorLimit = 1 << 22

    public static func stream(_ tensors: [String: TensorData]) throws {
        for name in tensors.keys.sorted() {
            guard let tensor = tensors[name] else { continue }
            try stream(tensor, name: name)
        }
    }

    public static func stream(_ tensor: TensorData, name: String) throws {
        guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
            throw FuzzInvariantViolation("tensor '\(name)' has a negative dimension: \(tensor.shape)")
        }
        let elements = tensor.shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
        }
        let bytes = elements.0.multipliedReportingOverflow(by: tensor.dtype.byteSize)
        guard !elements.1, !bytes.overflow else {
            throw FuzzInvariantViolation("tensor '\(name)' of shape \(tensor.shape) overflows its byte count")
        }
        guard bytes.partialValue <= tensorLimit else { return }
        let sink = CountingSink()
        try tensor.stream(into: sink)
        guard sink.count == bytes.partialValue else {
            throw FuzzInvariantViolation("tensor '\(name)' of \(tensor.dtype)\(tensor.shape) streamed \(sink.count) bytes, expected \(bytes.partialValue)")
        }
    }
}

/// A reader broke a promise an export relies on (a tensor whose bytes disagree with its shape,
/// a shape that overflows): a bug in the reader, reported by the fuzzers as a crash, never an
/// input error.
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Counts the bytes streamed into it; file regions are read (mapped) as a writing sink would.
final class CountingSink: TensorByteSink {
    private(set) var count = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws { count += bytes.count }
    func copy(from region: FileRegion) throws { try copyByReading(region) }
}
