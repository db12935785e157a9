import Foundation
import ONNXExportIR

/// Writes tensors as one `.safetensors` file, streaming each tensor's bytes (transposes and
/// all) from its source: the header (names sorted, padded with spaces to a multiple of 8 as the
/// reference writer does), then the data back to back. The tensors' bytes count into `meter`.
public enum SafetensorsWriter {
    @discardableResult
    public static func write(_ tensors: [String: TensorData], to path: String, metadata: [String: String] = ["format": "pt"],
                             meter: ProgressMeter? = nil) throws -> Int {
        let names = tensors.keys.sorted()
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            guard let dtype = SafetensorsDType.name(of: t.dtype) else {
                throw ExportError("\(path): tensor '\(name)' is \(t.dtype), which safetensors cannot hold")
            }
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let file = try OutputFile(path: path)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try file.write($0) }
        try file.write(header)
        for name in names {
            guard let t = tensors[name] else { continue }
            let start = file.position
            try file.counting(into: meter) { try t.stream(into: file) }
            guard file.position - start == t.byteCount else {
                throw ExportError("\(path): tensor '\(name)' streamed \(file.position - start) bytes, expected \(t.byteCount)")
            }
        }
        try file.flush()
        return file.position
    }

    /// A JSON string literal, non-ASCII characters as they are (UTF-8), as the reference writer does.
    static func jsonString(_ s: String) -> String { JSONStringLiteral.quoted(s, asciiOnly: false) }
}
