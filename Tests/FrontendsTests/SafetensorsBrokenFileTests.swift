import Foundation
import Testing
import ONNXExportIR
@testable import ONNXExportFrontends

/// One test per way a single .safetensors file can be broken. Each checks that the error starts
/// with the file's path and says what is wrong.
@Suite struct SafetensorsBrokenFileTests {
    /// Writes `bytes` as `name` in a fresh folder and expects reading it to fail with `fragments`.
    private func expectReadFails(_ bytes: [UInt8], mentioning fragments: [String],
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try SafetensorsTempFolder()
        defer { folder.remove() }
        let path = try folder.write("model.safetensors", bytes)
        expectReaderError(startingWith: path, mentioning: fragments, sourceLocation: sourceLocation) {
            _ = try SafetensorsReader.read(file: path)
        }
    }

    /// A header with one entry for tensor `x` whose fields are given as JSON text.
    private func oneTensor(dtype: String = #""F32""#, shape: String = "[3, 4]", offsets: String = "[0, 48]",
                           data: [UInt8] = Array(repeating: 0, count: 48)) -> [UInt8] {
        SafetensorsBytes.file(header: #"{"x":{"dtype":\#(dtype),"shape":\#(shape),"data_offsets":\#(offsets)}}"#, data: data)
    }

    // MARK: length prefix

    @Test func emptyFile() throws {
        try expectReadFails([], mentioning: ["is empty (0 bytes)", "8-byte header length"])
    }

    @Test func fileShorterThanTheLengthPrefix() throws {
        try expectReadFails([1, 2, 3, 4, 5], mentioning: ["only 5 bytes", "8-byte header length"])
    }

    @Test func headerLengthLargerThanTheFile() throws {
        let bytes = SafetensorsBytes.file(rawHeader: Array("{}".utf8) + Array(repeating: 0x20, count: 502), declaredLength: 1_000_000)
        try expectReadFails(bytes, mentioning: ["header length 1000000 is larger than the file (512 bytes"])
    }

    @Test func headerLengthBeyondTheFormatLimit() throws {
        let bytes = SafetensorsBytes.file(rawHeader: Array("{}".utf8), declaredLength: UInt64.max)
        try expectReadFails(bytes, mentioning: ["header length \(UInt64.max)", "limit of 100000000 bytes"])
    }

    @Test func headerLengthZero() throws {
        try expectReadFails(SafetensorsBytes.file(rawHeader: [], data: [1, 2]), mentioning: ["header length is 0", "JSON object"])
    }

    // MARK: header JSON

    @Test func headerThatIsNotJSON() throws {
        try expectReadFails(SafetensorsBytes.file(header: #"{"x": {"dtype": F32}}"#),
                            mentioning: ["header is not valid JSON", "expected a value", "at byte 16"])
    }

    @Test func headerCutShort() throws {
        try expectReadFails(SafetensorsBytes.file(rawHeader: Array(#"{"x":{"dtype":"F3"#.utf8)),
                            mentioning: ["header is not valid JSON", "unterminated string"])
    }

    @Test func headerThatIsNotAnObject() throws {
        try expectReadFails(SafetensorsBytes.file(header: "[1, 2, 3]"),
                            mentioning: ["header is not a JSON object", "starts with '['", "expected '{'"])
    }

    @Test func headerWithLeadingWhitespace() throws {
        try expectReadFails(SafetensorsBytes.file(header: " {}"), mentioning: ["header is not a JSON object", "byte 0x20"])
    }

    @Test func headerWithGarbageAfterTheObject() throws {
        try expectReadFails(SafetensorsBytes.file(rawHeader: Array("{}  \0\0\0\0".utf8)),
                            mentioning: ["header is not valid JSON", "after the end of the JSON value", "at byte 4"])
    }

    @Test func headerThatIsNotUTF8() throws {
        let header: [UInt8] = Array(#"{"caf"#.utf8) + [0xE9] + Array(#"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#.utf8)
        try expectReadFails(SafetensorsBytes.file(rawHeader: header), mentioning: ["header is not valid JSON", "not valid UTF-8"])
    }

    @Test func deeplyNestedHeaderIsAnErrorNotACrash() throws {
        let header = "{\"x\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        try expectReadFails(SafetensorsBytes.file(header: header), mentioning: ["header is not valid JSON", "nesting deeper than"])
    }

    @Test func entryThatIsNotAnObject() throws {
        try expectReadFails(SafetensorsBytes.file(header: #"{"x": [1, 2]}"#),
                            mentioning: ["tensor 'x'", "expected an object with dtype, shape and data_offsets", "found an array"])
    }

    @Test func entryMissingAField() throws {
        try expectReadFails(SafetensorsBytes.file(header: #"{"x":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]),
                            mentioning: ["tensor 'x'", "has no 'data_offsets'"])
    }

    @Test func duplicateTensorNames() throws {
        let header = #"{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        try expectReadFails(SafetensorsBytes.file(header: header, data: [1, 2]),
                            mentioning: ["header names tensor 'x' more than once"])
    }

    @Test func duplicateKeyInsideAnEntry() throws {
        try expectReadFails(oneTensor(dtype: #""F32","dtype":"F16""#), mentioning: ["tensor 'x'", "key 'dtype' appears more than once"])
    }

    // MARK: offsets and sizes

    @Test func offsetsLeavingTheFile() throws {
        try expectReadFails(oneTensor(shape: "[100]", offsets: "[0, 400]", data: Array(repeating: 0, count: 128)),
                            mentioning: ["tensor 'x'", "data_offsets [0, 400] leave the data buffer of 128 bytes"])
    }

    @Test func offsetsThatEndBeforeTheyBegin() throws {
        try expectReadFails(oneTensor(offsets: "[48, 0]"), mentioning: ["tensor 'x'", "data_offsets [48, 0] end before they begin"])
    }

    @Test(arguments: ["[0]", "[0, 48, 96]", "[-8, 40]", "[0, 48.0]", #"{"begin": 0}"#, "[0, 18446744073709551664]"])
    func offsetsThatAreNotTwoNonNegativeIntegers(offsets: String) throws {
        try expectReadFails(oneTensor(offsets: offsets), mentioning: ["tensor 'x'", "data_offsets must be [begin, end]"])
    }

    @Test func dtypeAndByteCountDisagreeing() throws {
        try expectReadFails(oneTensor(offsets: "[0, 40]", data: Array(repeating: 0, count: 40)),
                            mentioning: ["tensor 'x'", "dtype F32 and shape [3, 4] need 48 bytes but data_offsets span 40"])
    }

    // MARK: dtype and shape values

    @Test func unknownDtype() throws {
        try expectReadFails(oneTensor(dtype: #""Q4_K""#), mentioning: ["tensor 'x'", "unknown dtype 'Q4_K'", "F32"])
    }

    @Test func dtypeTheFormatDefinesButThisExporterDoesNotSupport() throws {
        try expectReadFails(oneTensor(dtype: #""F8_E4M3""#, offsets: "[0, 12]"),
                            mentioning: ["tensor 'x'", "dtype F8_E4M3 is not supported", "BF16"])
    }

    @Test func dtypeThatIsNotAString() throws {
        try expectReadFails(oneTensor(dtype: "4"), mentioning: ["tensor 'x'", "dtype must be a string"])
    }

    @Test func negativeShape() throws {
        try expectReadFails(oneTensor(shape: "[-3, 4]"), mentioning: ["tensor 'x'", "shape [-3, 4] has a negative dimension -3"])
    }

    @Test(arguments: ["[18446744073709551616]", "[3.0, 4]", "[1e3]", #"["3", 4]"#])
    func shapeDimensionsThatAreNotIntegersInRange(shape: String) throws {
        try expectReadFails(oneTensor(shape: shape), mentioning: ["tensor 'x'", "expected a non-negative integer below 2^63"])
    }

    @Test func shapeThatIsNotAnArray() throws {
        try expectReadFails(oneTensor(shape: "12"), mentioning: ["tensor 'x'", "shape must be an array"])
    }

    /// `[2^32, 2^32]` elements overflow 64 bits; `[2^31, 2^31]` F32 (2^62 elements) overflows
    /// only as bytes; a zero after the overflow does not rescue a shape.
    @Test(arguments: [
        ("[4294967296, 4294967296]", "more elements than 64-bit arithmetic can count"),
        ("[2147483648, 2147483648]", "need more than 2^63 bytes"),
        ("[4294967296, 4294967296, 0]", "more elements than 64-bit arithmetic can count"),
    ])
    func hugeShapesAreRefusedWithoutOverflowing(shape: String, problem: String) throws {
        try expectReadFails(oneTensor(shape: shape, offsets: "[0, 48]"), mentioning: ["tensor 'x'", problem])
    }
}
