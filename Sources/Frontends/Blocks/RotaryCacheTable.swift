import Foundation
import ONNXExportIR

/// `GroupQueryAttention`'s cos or sin table, `[positions, frequencies]` float32, computed while it
/// streams to the output: a long context (Llama 3.1's 131072 positions × 64 frequencies is 32 MB
/// per table) costs no memory at export. Each value is `cos|sin(Float(p) · f) · scaling`, the
/// product rounded to float32 as torch's rotary forward computes it.
struct RotaryCacheTable: TensorByteProducer {
    enum Function: String, Sendable { case cos, sin }
    let function: Function
    let frequencies: [Float]
    let scaling: Float
    let positions: Int

    /// Names the values: equal tables compare equal and are stored once.
    var identity: String {
        "rotary-\(function.rawValue)[\(positions)]x\(scaling.bitPattern):" + frequencies.map { String($0.bitPattern, radix: 16) }.joined(separator: ",")
    }

    var byteCount: Int { positions * frequencies.count * MemoryLayout<Float>.size }

    func stream(into sink: TensorByteSink) throws {
        let rowsPerChunk = max(1, (1 << 16) / max(1, frequencies.count))
        var chunk = [Float]()
        chunk.reserveCapacity(rowsPerChunk * frequencies.count)
        var start = 0
        while start < positions {
            chunk.removeAll(keepingCapacity: true)
            for p in start..<min(positions, start + rowsPerChunk) {
                for f in frequencies {
                    let angle = Float(p) * f
                    chunk.append((function == .cos ? Foundation.cos(angle) : Foundation.sin(angle)) * scaling)
                }
            }
            try chunk.withUnsafeBytes { try sink.write($0) }
            start += rowsPerChunk
        }
    }

    static func tensor(_ function: Function, frequencies: [Float], scaling: Float, positions: Int) throws -> TensorData {
        try .produced(RotaryCacheTable(function: function, frequencies: frequencies, scaling: scaling, positions: positions),
                      dtype: .float32, shape: [positions, frequencies.count])
    }
}
