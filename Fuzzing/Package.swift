// swift-tools-version:6.0
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder: the checkout's name, whatever it is.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// libFuzzer targets for every reader that takes bytes (`ReaderFuzzTarget` in the main package).
/// A package of its own so the main package's `swift build` and `swift test` never see an
/// executable without `main`: libFuzzer supplies it, so this builds only with
/// `swift build -Xswiftc -sanitize=fuzzer,address` (what `scripts/fuzz.sh` runs).
let package = Package(
    name: "onnx-export-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "reader-fuzz", dependencies: [.product(name: "ONNXExport", package: mainPackage)],
                          path: "Sources/reader-fuzz"),
    ],
    swiftLanguageModes: [.v5]
)
