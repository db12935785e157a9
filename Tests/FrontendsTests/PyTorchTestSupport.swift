import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// The files `Tests/Fixtures/make_pytorch_fixtures.py` wrote with torch, and the same tensors
/// as the safetensors package wrote them (`expected/state_dict.safetensors`).
enum PyTorchFixtures {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pytorch").path

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// The commands in the hostile fixtures would create these files.
    static let osSystemMarker = "/tmp/onnx-export-pytorch-fixture-os-system-ran"
    static let evalMarker = "/tmp/onnx-export-pytorch-fixture-eval-ran"

    /// Every tensor of the fixture state_dict, as SafetensorsReader reads the expected file.
    static func expected() throws -> [String: TensorData] {
        try SafetensorsReader.read(file: path("expected/state_dict.safetensors"))
    }

    /// Checks `tensors` holds exactly the expected names, each with the expected dtype, shape and bytes.
    static func expectMatches(_ tensors: [String: TensorData], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try expected()
        #expect(Set(tensors.keys) == Set(expected.keys), sourceLocation: sourceLocation)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[name] else { continue }
            #expect(tensor.dtype == want.dtype, "dtype of \(name)", sourceLocation: sourceLocation)
            #expect(tensor.shape == want.shape, "shape of \(name)", sourceLocation: sourceLocation)
            #expect(try tensor.materialize() == (try want.materialize()), "bytes of \(name)", sourceLocation: sourceLocation)
        }
    }
}

/// Builds small `torch.save`-shaped archives in a temp folder from a hand-written pickle, for the
/// cases torch itself will not write.
enum PyTorchArchiveBytes {
    /// `<prefix>/data.pkl` holding `pickle`, `<prefix>/byteorder`, and one stored record per storage.
    static func archive(pickle: [UInt8], storages: [String: [UInt8]] = [:], prefix: String = "archive",
                        extra: [ZipBuilder.Entry] = []) -> [UInt8] {
        var entries = [ZipBuilder.Entry("\(prefix)/data.pkl", pickle), ZipBuilder.Entry("\(prefix)/byteorder", Array("little".utf8))]
        for (key, bytes) in storages.sorted(by: { $0.key < $1.key }) {
            entries.append(ZipBuilder.Entry("\(prefix)/data/\(key)", bytes))
        }
        var builder = ZipBuilder(entries + extra)
        builder.zip64End = true
        return builder.bytes()
    }

    /// Writes `bytes` (a zip archive or a legacy stream) to a temp file and expects
    /// `PyTorchReader.read` to refuse it with a message that names the file and mentions `fragments`.
    static func expectReadFails(_ bytes: [UInt8], mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try ZipTempFolder()
        defer { folder.remove() }
        let path = try folder.write("model.bin", bytes)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try PyTorchReader.read(file: path)
        }
    }

    static func float32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
    }
}

/// Builds legacy (pre-1.6) `torch.save` streams around a hand-written object pickle: magic number,
/// protocol version, sys_info, the object, the key list, then the storage sections.
enum LegacyStreamBytes {
    static let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + PyTorchFileKind.legacyMagic + [0x2E]

    static func stream(object: [UInt8], keys: [String], sections: [UInt8], version: Int = 1001, littleEndian: Bool = true) -> [UInt8] {
        var v = PickleBytes()
        v.int(version)
        v.op(.stop)
        var info = PickleBytes()
        info.op(.emptyDict)
        info.op(.mark)
        info.string("protocol_version"); info.int(version)
        info.string("little_endian"); info.op(littleEndian ? .newTrue : .newFalse)
        info.op(.setItems)
        info.op(.stop)
        var list = PickleBytes()
        list.op(.emptyList)
        list.op(.mark)
        keys.forEach { list.string($0) }
        list.op(.appends)
        list.op(.stop)
        return magic + v.bytes + info.bytes + object + list.bytes + sections
    }

    /// One storage section: the element count (8 bytes, little-endian), then the bytes.
    static func section(count: Int, _ bytes: [UInt8]) -> [UInt8] { PickleBytes.u64(count) + bytes }
}
