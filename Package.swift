// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "KerasDelta",
    products: [
        .library(name: "KerasDelta", targets: ["KerasDelta"]),
        .executable(name: "keras-delta", targets: ["keras-delta"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // `swift package generate-documentation --target KerasDelta` (Sources/KerasDelta/KerasDelta.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Tensor", dependencies: ["CBLAS"]),
        .target(name: "CCrashGuard"),
        .target(name: "HDF5", dependencies: ["CHDF5", "CCrashGuard"]),
        .target(name: "Layers", dependencies: ["Tensor"]),
        .target(name: "Training", dependencies: ["Tensor", "Layers"]),
        .target(name: "Video", dependencies: ["Tensor"]),
        // Video-backed data sources for Training (clip batches, the DATA argument).
        .target(name: "VideoTraining", dependencies: ["Tensor", "Layers", "Training", "Video"]),
        .target(name: "KerasIO", dependencies: [
            "Tensor", "HDF5", "Layers",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .target(name: "Delta", dependencies: ["Tensor", "Layers", "Training", "Video", "VideoTraining"]),
        .target(name: "Streaming", dependencies: ["CBLAS", "Tensor", "Layers"]),
        .target(name: "KerasDelta", dependencies: ["Tensor", "HDF5", "Layers", "Training", "KerasIO", "Video", "VideoTraining", "Delta", "Streaming"]),
        // The CLI also holds the demo and the benchmarks: programs, not library API.
        .executableTarget(name: "keras-delta", dependencies: [
            "KerasDelta", "CBLAS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Comparison helpers shared by the test targets (not part of any product).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Layers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KerasIOTests", dependencies: ["KerasIO", "Layers", "HDF5", "Training", "Delta", "Streaming", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        .testTarget(name: "VideoTrainingTests", dependencies: ["VideoTraining", "Video", "Training", "Layers"]),
        .testTarget(name: "DeltaTests", dependencies: ["Delta", "Layers", "KerasIO", "Training", "Video", "VideoTraining", "Streaming", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "Layers", "Tensor", "Video"]),
    ],
    swiftLanguageModes: [.v5]
)
