import XCTest
import Tensor
import Layers
import KerasIO
import Delta

/// Gives every weight of `model` seeded non-trivial values; variances stay positive.
func randomizeWeights(_ model: Layer, seed: UInt64) throws {
    var g = SeededGenerator(seed: seed)
    for w in model.weights {
        let positive = w.name.contains("variance")
        let values = (0..<w.value.count).map { _ in Float.random(in: positive ? 0.5...1.5 : -0.5...0.5, using: &g) }
        try w.assign(Tensor(shape: w.shape, scalars: values))
    }
}

/// Seeded values in `range`.
func seededTensor(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &g) })
}

/// Fails unless |a − b| ≤ tolerance·(1 + |b|) everywhere; NaN anywhere fails.
func assertNear(_ a: Tensor, _ b: Tensor, tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard a.shape == b.shape else { return XCTFail("\(what): shape \(a.shape) != \(b.shape)", file: file, line: line) }
    var bad = 0, worst: Float = 0
    for (x, y) in zip(a.scalars, b.scalars) {
        let excess = Swift.abs(x - y) / (1 + Swift.abs(y))
        if !(excess <= tolerance) { bad += 1; worst = excess.isNaN ? .nan : Swift.max(worst, excess) }
    }
    XCTAssertEqual(bad, 0, "\(what): \(bad) of \(a.count) elements beyond \(tolerance)·(1+|y|), worst \(worst)", file: file, line: line)
}

/// `.fixtures/applications/`, written by tools/gen_application_models.py in `make test`.
let applicationsFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".fixtures/applications")

/// A keras.applications family of the coverage suite: Keras 3's file where the
/// generator wrote one (RegNet only comes from tf-keras), its input batch, and Keras's prediction.
func loadApplication(_ architecture: String) throws -> (model: Model, input: Tensor, output: Tensor) {
    let url = applicationsFolder.appendingPathComponent("manifest.json")
    guard FileManager.default.fileExists(atPath: url.path) else {
        XCTFail("\(url.path) is missing: run `make test` or `.venv/bin/python tools/gen_application_models.py`")
        throw DeltaError.badData("no manifest")
    }
    let cases = try XCTUnwrap(try JSONValue(parsing: String(contentsOf: url, encoding: .utf8))["cases"]?.arrayValue)
    let c = try XCTUnwrap(cases.first { $0["name"]?.stringValue == "\(architecture)_keras3" }
                          ?? cases.first { $0["name"]?.stringValue == "\(architecture)_keras2" }, "no \(architecture) case")
    let file = try XCTUnwrap(c["files"]?["keras"]?.stringValue ?? c["files"]?["h5"]?.stringValue)
    let model = try KerasModelFile.load(applicationsFolder.appendingPathComponent(file).path).model
    let input = try Tensor(npyFile: applicationsFolder.appendingPathComponent(try XCTUnwrap(c["input"]?.stringValue)))
    let output = try Tensor(npyFile: applicationsFolder.appendingPathComponent(try XCTUnwrap(c["output"]?.stringValue)))
    return (model, input, output)
}
