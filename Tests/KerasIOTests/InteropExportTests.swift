import Foundation
import XCTest
import Tensor
import Layers
import KerasIO

/// A custom layer as a user would register one: `x · scale + offset` with a
/// learned `scale` per feature. tests/interop defines the same class in Python.
final class ScaleBy: UnaryLayer {
    override class var className: String { "ScaleBy" }
    static let registeredName = "keras_delta>ScaleBy"
    let offset: Double
    private(set) var scale: Variable!

    init(offset: Double, name: String? = nil) {
        self.offset = offset
        super.init(name: name)
    }

    required init(config: LayerConfig) throws {
        offset = try config.double("offset")
        try super.init(config: config)
    }

    override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["offset"] = .double(offset)
        return c
    }

    override func build(inputShape: Shape) throws {
        guard let features = inputShape.last ?? nil else { throw LayerError.shapeMismatch(layer: name, "needs known features") }
        scale = try addWeight(name: "scale", shape: [features], initializer: .ones)
    }

    override func call(_ x: Tensor, training: Bool) throws -> Tensor { try x * scale.read() + Float(offset) }
}

/// Writes the fixture models, re-saved by KerasIO as `.h5`, `.keras` and
/// `.weights.h5`, into `.fixtures/interop/` with their inputs, Swift's
/// predictions and the original Keras predictions. tests/interop (pytest)
/// loads them with Keras 3 and tf-keras and compares; `manifest.json` lists
/// the cases. Run `swift test` before pytest.
final class InteropExportTests: XCTestCase {
    /// `.fixtures/interop` under the package root (git-ignored).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".fixtures/interop")

    /// The compile settings written with the "tuned" cases; pytest checks both Keras versions compile from them.
    static let trainingConfig: JSONValue = [
        "loss": "mse", "metrics": ["mae"], "weighted_metrics": nil, "loss_weights": nil,
        "optimizer_config": ["class_name": "Adam", "config": ["name": "Adam", "learning_rate": 0.005, "beta_1": 0.8]],
    ]

    func testWriteInteropFiles() throws {
        let fm = FileManager.default
        try? fm.removeItem(at: Self.folder)
        try fm.createDirectory(at: Self.folder, withIntermediateDirectories: true)
        var cases: [JSONValue] = []
        for name in ModelFixtures.all {
            let model = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            let inputs = try ModelFixtures.inputs(name)
            let keras = try ModelFixtures.outputs(name)
            assertClose(try model.predictOnBatch(inputs), keras, name)
            cases.append(try export(name, model, inputs: inputs, kerasOutputs: keras))
        }
        // Weights changed in Swift, as after training: the files must carry them.
        for name in ["recurrent_keras3", "conv_bn_pool_keras2", "nested_multi_input_keras3"] {
            let model = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            try perturb(model)
            cases.append(try export("\(name)_tuned", model, inputs: try ModelFixtures.inputs(name), trainingConfig: Self.trainingConfig))
        }
        cases.append(try exportCustomLayerModel())
        let manifest: JSONValue = ["written_by": "Tests/KerasIOTests/InteropExportTests.swift", "cases": .array(cases)]
        try Data(manifest.serialized().utf8).writeAtomically(to: Self.folder.appendingPathComponent("manifest.json"))
    }

    /// Adds a small deterministic pattern to every weight.
    private func perturb(_ model: Model) throws {
        for (k, w) in model.weights.enumerated() {
            w.update { values in
                for i in values.indices { values[i] += 0.05 * Float(sin(Double(i + 7 * k + 1))) }
            }
        }
    }

    private func exportCustomLayerModel() throws -> JSONValue {
        LayerRegistry.register(ScaleBy.registeredName, ScaleBy.self)
        let model = try Sequential([InputLayer(batchShape: [nil, 4], name: "features"),
                                    Dense(units: 3, activation: "tanh", name: "proj"),
                                    ScaleBy(offset: 0.25, name: "scale_by"), Dense(units: 2, name: "out")], name: "custom_model")
        try perturb(model)
        let x = Tensor(shape: [3, 4], scalars: (0..<12).map { Float(sin(Double($0))) })
        return try export("custom_layer", model, inputs: [x], customLayer: "ScaleBy")
    }

    /// Saves `model` in every format, with its input, Swift's prediction and
    /// Keras's, and checks that each file reads back with the same weights.
    private func export(_ name: String, _ model: Model, inputs: [Tensor], kerasOutputs: [Tensor] = [],
                        trainingConfig: JSONValue? = nil, customLayer: String? = nil) throws -> JSONValue {
        let swiftOutputs = try model.predictOnBatch(inputs)
        func path(_ suffix: String) -> String { Self.folder.appendingPathComponent("\(name)\(suffix)").path }
        var files: [JSONValue] = []
        func save(_ tensors: [Tensor], _ kind: String) throws {
            var names: [JSONValue] = []
            for (i, t) in tensors.enumerated() {
                try t.writeNPY(to: URL(fileURLWithPath: path(".\(kind)\(i).npy")))
                names.append(.string("\(name).\(kind)\(i).npy"))
            }
            files.append(.array(names))
        }
        try save(inputs, "in")
        try save(swiftOutputs, "swift_out")
        try save(kerasOutputs, "keras_out")
        for ext in [".h5", ".keras"] {
            try KerasModelFile.save(model, to: path(ext), trainingConfig: trainingConfig)
            let reloaded = try KerasModelFile.load(path(ext))
            XCTAssertEqual(weightBits(reloaded.model), weightBits(model), "\(name)\(ext)")
            XCTAssertEqual(try reloaded.model.predictOnBatch(inputs).map(\.scalars), swiftOutputs.map(\.scalars), "\(name)\(ext)")
        }
        try KerasModelFile.save(model, to: path(".weights.h5"))
        return ["name": .string(name), "h5": .string("\(name).h5"), "keras": .string("\(name).keras"),
                "weights": .string("\(name).weights.h5"), "inputs": files[0], "swift_outputs": files[1],
                "keras_outputs": files[2], "compiled": .bool(trainingConfig != nil),
                "custom_layer": customLayer.map { .string($0) } ?? .null]
    }
}
