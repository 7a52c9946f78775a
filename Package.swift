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
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Tensor", dependencies: ["CBLAS"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Layers", dependencies: ["Tensor"]),
        .target(name: "Training", dependencies: ["Tensor", "Layers"]),
        .target(name: "Video", dependencies: ["Tensor"]),
        .target(name: "KerasIO", dependencies: [
            "Tensor", "HDF5", "Layers",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .target(name: "Delta", dependencies: ["Tensor", "Layers", "Training", "Video"]),
        .target(name: "Streaming", dependencies: ["CBLAS", "Tensor", "Layers"]),
        .target(name: "KerasDelta", dependencies: ["CBLAS", "Tensor", "HDF5", "Layers", "Training", "KerasIO", "Video", "Delta", "Streaming"]),
        .executableTarget(name: "keras-delta", dependencies: [
            "KerasDelta",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LayersTests", dependencies: ["Layers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Layers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KerasIOTests", dependencies: ["KerasIO", "Layers", "HDF5", "Training"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "Layers", "Tensor", "Video"]),
        .testTarget(name: "DeltaTests", dependencies: ["Delta", "Layers", "KerasIO", "Training", "Video"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
