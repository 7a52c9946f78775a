import Foundation
import TestSupport
import XCTest
import HDF5
import Layers
import Tensor
import Training
@testable import KerasIO

/// Optimizer state in saved files (tools/gen_optimizer_state_fixtures.py,
/// `Fixtures/optimizer_state`): Keras 3 and tf-keras fitted a conv+BN and an
/// LSTM model for 1 epoch and saved them; Swift loads each file, compiles from
/// its config, fits 2 more epochs and must end on the weights Keras reached,
/// per element `|swift − keras| ≤ 1e-4 · max(|keras|, 1e-2)`.
final class OptimizerStateTests: XCTestCase {
    static let models = ["convbn", "rnn"]
    static let relativeTolerance: Float = 1e-4

    /// `.fixtures/optimizer_state` under the package root (git-ignored), read by tests/interop.
    static let exportFolder = InteropExportTests.folder.deletingLastPathComponent().appendingPathComponent("optimizer_state")

    static func url(_ model: String, _ file: String) throws -> URL {
        try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Fixtures/optimizer_state/\(model)/\(file)"))
    }

    static func cases(_ model: String) throws -> [String] {
        let json = try JSONValue(parsing: String(contentsOf: try url(model, "cases.json"), encoding: .utf8))
        return try XCTUnwrap(json["cases"]?.arrayValue).compactMap(\.stringValue)
    }

    static func data(_ model: String) throws -> (Tensor, Tensor) {
        (try Tensor(npyFile: try url(model, "x.npy")), try Tensor(npyFile: try url(model, "y.npy")))
    }

    /// Weights flat, layer by layer, each layer's in creation order (Keras 3's `model.weights`).
    static func flatWeights(_ model: Model) -> [Float] { model.layers.flatMap { $0.weights.flatMap { $0.value.scalars } } }

    /// `|a − b| / max(|b|, 1e-2)` per element, counting those over the tolerance.
    static func compare(_ a: [Float], _ b: [Float], tolerance: Float = relativeTolerance) -> ElementComparison {
        .relative(a, b, floor: 1e-2, tolerance: tolerance)
    }

    /// Loads a file and compiles it from its own config, as `keras.models.load_model`.
    static func loadCompiled(_ path: String) throws -> Model {
        let loaded = try KerasModelFile.load(path)
        try loaded.model.compile(config: try XCTUnwrap(loaded.trainingConfig?.objectValue))
        return loaded.model
    }

    func testFitContinuesFromKerasFiles() throws {
        for name in Self.models {
            let (x, y) = try Self.data(name)
            let cases = try Self.cases(name)
            XCTAssertEqual(cases.count, 27, name)
            // tf-keras cannot continue Nadam from a file, its own included: the file lacks the
            // momentum product, and tf-keras's cache counter then multiplies it once per variable.
            for file in cases where file != "nadam.tf.h5" {
                let model = try Self.loadCompiled(try Self.url(name, file).path)
                let optimizer = try XCTUnwrap(model.optimizer)
                XCTAssertEqual(optimizer.iterations, 3, "\(name)/\(file): restored step count")
                try model.fit(x: x, y: y, batchSize: 8, epochs: 2, shuffle: false, verbose: 0)
                let expected = try Tensor(npyFile: try Self.url(name, file + ".npy")).scalars
                let actual = Self.flatWeights(model)
                XCTAssertEqual(actual.count, expected.count, "\(name)/\(file)")
                let comparison = Self.compare(actual, expected)
                print(String(format: "resume %-40@ weights %.2e", "\(name)/\(file)" as NSString, comparison.worst))
                XCTAssertTrue(comparison.passes, "\(name)/\(file): weights differ from Keras: \(comparison)")
            }
        }
    }

    /// Without the saved state the result differs: the test above depends on it.
    func testFreshOptimizerDiverges() throws {
        let (x, y) = try Self.data("convbn")
        let loaded = try KerasModelFile.load(try Self.url("convbn", "adam.keras").path)
        loaded.model.compileState = nil
        try loaded.model.compile(config: try XCTUnwrap(loaded.trainingConfig?.objectValue))
        XCTAssertEqual(loaded.model.optimizer?.iterations, 0)
        try loaded.model.fit(x: x, y: y, batchSize: 8, epochs: 2, shuffle: false, verbose: 0)
        let expected = try Tensor(npyFile: try Self.url("convbn", "adam.keras.npy")).scalars
        let comparison = Self.compare(Self.flatWeights(loaded.model), expected, tolerance: 1e-3)
        XCTAssertEqual(comparison.nonFinite, 0)
        XCTAssertGreaterThan(comparison.over, 0, "a fresh optimizer must not reach Keras's resumed weights: \(comparison)")
    }

    /// The variables of the state a `.keras` file holds, after the model is compiled from it.
    private func compiledState(_ path: String) throws -> [OptimizerVariable] {
        try XCTUnwrap(try Self.loadCompiled(path).optimizerStateToSave).variables
    }

    /// `.keras → .weights.h5 → .keras` keeps every optimizer variable bit for bit,
    /// and so does compiling (restoring) and saving again.
    func testRoundTripKeepsOptimizerVariables() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optstate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in Self.models {
            for file in try Self.cases(name) where file.hasSuffix(".keras") {
                let source = try Self.url(name, file).path
                let original = try KerasModelFile.load(source)
                let stored = try XCTUnwrap(original.model.optimizerStateToSave).variables
                let weights = dir.appendingPathComponent("w.weights.h5").path, back = dir.appendingPathComponent("back.keras").path
                try KerasModelFile.save(original.model, to: weights)
                let target = try KerasModelFile.load(source)
                target.model.compileState = nil
                try KerasModelFile.loadWeights(into: target.model, from: weights)
                try KerasModelFile.save(target.model, to: back, trainingConfig: original.trainingConfig)
                XCTAssertEqual(try XCTUnwrap(KerasModelFile.load(back).model.optimizerStateToSave).variables.map(\.values),
                               stored.map(\.values), "\(name)/\(file): .keras → .weights.h5 → .keras")
                XCTAssertEqual(try compiledState(source).map(\.values), stored.map(\.values), "\(name)/\(file): restored and saved")
                XCTAssertEqual(try compiledState(source).map(\.shape), stored.map(\.shape), "\(name)/\(file)")
            }
        }
    }

    /// Keras 3's layout in our `.weights.h5`: `iteration` int64, `learning_rate` float32, both scalars.
    func testNativeLayoutDtypes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optstate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Self.loadCompiled(try Self.url("rnn", "nadam.keras").path)
        let path = dir.appendingPathComponent("m.weights.h5").path
        try KerasModelFile.save(model, to: path)
        let vars = try HDF5File(path: path).group("optimizer/vars")
        XCTAssertEqual(try vars.attribute("name").readString(), model.optimizer?.name)
        XCTAssertEqual(try vars.dataset("0").elementType, .int64)
        XCTAssertEqual(try vars.dataset("0").shape, [])
        XCTAssertEqual(try vars.dataset("1").elementType, .float32)
        XCTAssertEqual(try vars.dataset("1").shape, [])
        // iteration, learning_rate, (momentum, velocity) × 5 variables, u_product.
        XCTAssertEqual(try vars.childNames().count, 2 + 2 * 5 + 1)
    }

    /// A different optimizer class starts fresh, as recompiling in Keras; a
    /// different variable count is skipped (Keras warns); a wrong shape throws
    /// one line naming the file and the variable.
    func testMismatchedState() throws {
        let path = try Self.url("convbn", "adam.keras").path
        let other = try KerasModelFile.load(path).model
        try other.compile(optimizer: SGD(learningRate: 0.1, momentum: 0.9), loss: "mse")
        XCTAssertEqual(other.optimizer?.iterations, 0)

        let amsgrad = try KerasModelFile.load(path).model
        try amsgrad.compile(optimizer: Adam(amsgrad: true), loss: "mse")
        XCTAssertEqual(amsgrad.optimizer?.iterations, 0, "count mismatch is skipped")

        let same = try KerasModelFile.load(path).model
        try same.compile(optimizer: Adam(learningRate: 0.5), loss: "mse")
        XCTAssertEqual(same.optimizer?.iterations, 3, "the user compiles with the same optimizer")
        XCTAssertEqual(same.optimizer?.currentLearningRate, 0.5, "the caller's learning rate stays")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optstate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try KerasModelFile.load(path).model
        var state = try XCTUnwrap(bad.optimizerStateToSave)
        state.variables[2] = OptimizerVariable(path: "x", shape: [7], values: .float32([Float](repeating: 0, count: 7)))
        bad.compileState = LoadedOptimizerState(state)
        let badPath = dir.appendingPathComponent("bad.weights.h5").path
        try KerasModelFile.save(bad, to: badPath)
        let target = try KerasModelFile.load(path).model
        try target.compile(optimizer: Adam(), loss: "mse")
        XCTAssertThrowsError(try KerasModelFile.loadWeights(into: target, from: badPath)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(badPath) && text.contains("/optimizer/vars/2") && !text.contains("\n"), text)
        }
    }

    /// Writes files for tests/interop: Swift fits 1 epoch from the initial
    /// weights and saves `.keras` and `.h5`; Swift also fits 3 epochs straight.
    /// Keras then loads the files, fits 2 more epochs and compares.
    func testWriteResumeInteropFiles() throws {
        try? FileManager.default.removeItem(at: Self.exportFolder)
        try FileManager.default.createDirectory(at: Self.exportFolder, withIntermediateDirectories: true)
        var cases: [JSONValue] = []
        for name in Self.models {
            let (x, y) = try Self.data(name)
            for file in try Self.cases(name) where file.hasSuffix(".keras") {
                let optimizer = String(file.dropLast(".keras".count))
                let config = try XCTUnwrap(KerasModelFile.load(try Self.url(name, file).path).trainingConfig?.objectValue)
                func start() throws -> Model {
                    let model = try KerasModelFile.load(try Self.url(name, "init.keras").path).model
                    try model.compile(config: config)
                    return model
                }
                let once = try start()
                try once.fit(x: x, y: y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
                let stem = "\(name)_\(optimizer)"
                for ext in ["keras", "h5"] {
                    try KerasModelFile.save(once, to: Self.exportFolder.appendingPathComponent("\(stem).\(ext)").path,
                                            trainingConfig: once.compileConfig.map { .object($0) })
                }
                let straight = try start()
                try straight.fit(x: x, y: y, batchSize: 8, epochs: 3, shuffle: false, verbose: 0)
                try Tensor(shape: [Self.flatWeights(straight).count], scalars: Self.flatWeights(straight))
                    .writeNPY(to: Self.exportFolder.appendingPathComponent("\(stem).straight.npy"))
                cases.append(["name": .string(stem), "model": .string(name), "optimizer": .string(optimizer),
                              "x": .string(try Self.url(name, "x.npy").path), "y": .string(try Self.url(name, "y.npy").path)])
            }
        }
        let manifest: JSONValue = ["written_by": "Tests/KerasIOTests/OptimizerStateTests.swift", "cases": .array(cases)]
        try Data(manifest.serialized().utf8).write(to: Self.exportFolder.appendingPathComponent("manifest.json"), options: .atomic)
    }
}
