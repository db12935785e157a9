import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// A fresh folder under the system temp directory, one per test, removed by `remove()`.
struct SafetensorsTempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds safetensors bytes the way the reference writer does: entries in order, offsets packed,
/// the header padded with spaces to a multiple of 8.
enum SafetensorsBytes {
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    /// A well-formed file holding `tensors` (plus a `__metadata__` entry, which readers skip).
    static func file(_ tensors: [Tensor]) -> [UInt8] {
        var entries = [#""__metadata__":{"format":"pt"}"#]
        var data: [UInt8] = []
        for tensor in tensors {
            let begin = data.count
            data += tensor.bytes
            entries.append(#""\#(tensor.name)":{"dtype":"\#(tensor.dtype)","shape":\#(tensor.shape),"data_offsets":[\#(begin),\#(data.count)]}"#)
        }
        return file(header: "{" + entries.joined(separator: ",") + "}", data: data)
    }

    /// A file with a hand-written header (padded to a multiple of 8) and `data` after it.
    static func file(header: String, data: [UInt8] = []) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        return file(rawHeader: headerBytes, data: data)
    }

    /// A file whose header bytes are taken as given, and whose length field says `declaredLength`
    /// (the true header length unless a test wants it to lie).
    static func file(rawHeader: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        littleEndian(declaredLength ?? UInt64(rawHeader.count)) + rawHeader + data
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func float32(_ values: [Float]) -> [UInt8] {
        values.flatMap { littleEndian(UInt64($0.bitPattern)).prefix(4) }
    }

    static func int64(_ values: [Int64]) -> [UInt8] {
        values.flatMap { littleEndian(UInt64(bitPattern: $0)) }
    }
}

/// Expects `body` to throw an `ExportError` (any reader's) whose message starts with `path` and mentions every
/// one of `fragments`; returns the message for further checks.
@discardableResult
func expectReaderError(
    startingWith path: String,
    mentioning fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> String? {
    let error = #expect(throws: ExportError.self, sourceLocation: sourceLocation) { try body() }
    guard let message = error?.message else { return nil }
    #expect(message.hasPrefix(path + ":"), "message should start with the file: \(message)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(message.contains(fragment), "message should mention \(fragment): \(message)", sourceLocation: sourceLocation)
    }
    return message
}
