// swift-tools-version:6.0
import PackageDescription

/// onnx-export: a compiler from transformer checkpoints (config + weights) to ONNX models.
/// Module names carry an `ONNXExport` prefix so they do not clash with other packages' `IR`.
let package = Package(
    name: "onnx-export",
    products: [
        .library(name: "ONNXExport", targets: ["ONNXExport"]),
        .executable(name: "onnx-export", targets: ["onnx-export"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian: libprotobuf-c-dev, zlib1g-dev).
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // protobuf-c code generated from schemas/onnx.proto by schemas/generate.sh (committed).
        .target(name: "COnnxProto", dependencies: ["CProtobufC"], path: "schemas/generated",
                publicHeadersPath: "include"),
        // Tiny C shims for Glibc calls Swift cannot see (copy_file_range needs _GNU_SOURCE).
        .target(name: "CSystemShims", path: "Sources/CSystemShims"),
        .target(name: "CKernels", path: "Sources/CKernels"),

        .target(name: "ONNXExportIR", dependencies: ["CSystemShims", "CKernels"], path: "Sources/IR"),
        .target(name: "ONNXExportFrontends", dependencies: ["ONNXExportIR", "CZlib", "CKernels"], path: "Sources/Frontends"),
        .target(name: "ONNXExportBackend", dependencies: ["ONNXExportIR", "COnnxProto", "CProtobufC", "CSystemShims"],
                path: "Sources/ONNXBackend"),
        .target(name: "ONNXExport", dependencies: ["ONNXExportIR", "ONNXExportFrontends", "ONNXExportBackend"],
                path: "Sources/ONNXExport"),
        .executableTarget(name: "onnx-export", dependencies: [
            "ONNXExport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/onnx-export"),

        .testTarget(name: "IRTests", dependencies: ["ONNXExportIR"], path: "Tests/IRTests"),
        .testTarget(name: "FrontendsTests", dependencies: ["ONNXExportFrontends"], path: "Tests/FrontendsTests"),
        .testTarget(name: "BackendTests", dependencies: ["ONNXExportBackend", "COnnxProto"], path: "Tests/BackendTests"),
        .testTarget(name: "ExportTests", dependencies: ["ONNXExport", "ONNXExportIR", "ONNXExportBackend", "ONNXExportFrontends"], path: "Tests/ExportTests"),
    ],
    swiftLanguageModes: [.v5]
)
