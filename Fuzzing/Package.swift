// swift-tools-version:6.0
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder: the checkout's name, whatever it is (but not
/// `fuzzing`, which is this package's own name).
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// libFuzzer targets for every reader that takes bytes (`ReaderFuzzTarget` in the main package).
/// A package of its own so the main package's `swift build` and `swift test` never link an
/// executable that needs libFuzzer's runtime: its `main` calls `LLVMFuzzerRunDriver`, which only
/// `swift build -Xswiftc -sanitize=fuzzer,address` links in (what `scripts/fuzz.sh` runs).
let package = Package(
    name: "onnx-export-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "reader-fuzz", dependencies: [.product(name: "ONNXExport", package: mainPackage)],
                          path: "Sources/reader-fuzz"),
    ],
    swiftLanguageModes: [.v5]
)
