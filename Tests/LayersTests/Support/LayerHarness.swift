import TestSupport
import XCTest
import Tensor
import Layers

/// One golden case written by tools/layer_fixtures.py.
struct LayerCase {
    let family: String
    let name: String
    let meta: JSONValue

    init(family: String, name: String) throws {
        self.family = family
        self.name = name
        let url = try LayerCase.url(family, "\(name)", "json")
        meta = try JSONValue(parsing: String(contentsOf: url, encoding: .utf8))
    }

    static func url(_ family: String, _ file: String, _ ext: String) throws -> URL {
        guard let u = Bundle.module.url(forResource: "Fixtures/\(family)/\(file)", withExtension: ext) else {
            throw TensorError.io("missing fixture \(family)/\(file).\(ext): run tools/gen_layer_fixtures_\(family).py")
        }
        return u
    }

    func array(_ suffix: String) throws -> Tensor { try Tensor(npyFile: try LayerCase.url(family, "\(name).\(suffix)", "npy")) }
    func has(_ suffix: String) -> Bool { Bundle.module.url(forResource: "Fixtures/\(family)/\(name).\(suffix)", withExtension: "npy") != nil }

    /// Every case name of a family.
    static func names(_ family: String) throws -> [String] {
        guard let dir = Bundle.module.url(forResource: "Fixtures/\(family)", withExtension: nil) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// Keras's `run_layer_test`, against real Keras numbers: build from the
/// config, weight count/order/names, output shapes, forward values, input
/// and weight gradients, losses, and the config round trip.
func runLayerCase(_ c: LayerCase, atol: Float = 1e-5, rtol: Float = 1e-5, gradTolerance: Float = 1e-4,
                  file: StaticString = #filePath, line: UInt = #line) throws {
    let label = "\(c.family)/\(c.name)"
    let className = try XCTUnwrap(c.meta["class_name"]?.stringValue)
    let configObject = try XCTUnwrap(c.meta["config"]?.objectValue)
    let config = LayerConfig(configObject, keras2: c.meta["keras2"]?.boolValue ?? false)
    let layer = try LayerRegistry.makeLayer(className: className, config: config)
    let training = c.meta["training"]?.boolValue ?? false

    let inputCount = try XCTUnwrap(c.meta["inputs"]?.intValue)
    let inputs = try (0..<inputCount).map { try c.array("in\($0)") }
    try layer.buildIfNeeded(inputs.map { $0.shape.map { Optional($0) } })

    // Weights: count, order (Keras paths) and values.
    let paths = (c.meta["weight_paths"]?.arrayValue ?? []).compactMap { $0.stringValue }
    XCTAssertEqual(layer.weights.count, paths.count, "\(label): weight count", file: file, line: line)
    let expectedPaths = paths.map { $0.replacingOccurrences(of: ":0", with: "") }
    XCTAssertEqual(layer.weights.map { $0.name }, expectedPaths, "\(label): weight names", file: file, line: line)
    try layer.setWeights(try (0..<paths.count).map { try c.array("w\($0)") })

    // Symbolic output shapes agree with the computed ones.
    let symbolicShapes = try layer.computeOutputShapes(inputs.map { [nil] + $0.shape.dropFirst().map { Optional($0) } })

    // Forward and gradients.
    let tape = GradientTape()
    let differentiable = c.meta["differentiable_inputs"]?.boolValue ?? true
    let watched = inputs.enumerated().map { differentiable && c.has("gin\($0.offset)") ? tape.watch($0.element) : $0.element }
    let outputs = try tape.record { try layer(watched, training: training) }
    let outputCount = try XCTUnwrap(c.meta["outputs"]?.intValue)
    XCTAssertEqual(outputs.count, outputCount, "\(label): output count", file: file, line: line)
    XCTAssertEqual(symbolicShapes.count, outputs.count, "\(label): symbolic output count", file: file, line: line)
    var target = Tensor(0)
    for (j, y) in outputs.enumerated() where j < outputCount {
        assertClose(y, try c.array("out\(j)"), atol: atol, rtol: rtol, "\(label) output \(j)", file: file, line: line)
        if j < symbolicShapes.count {
            let s = symbolicShapes[j]
            let fits = s.count == y.rank && zip(s, y.shape).allSatisfy { $0 == nil || $0 == $1 }
            XCTAssertTrue(fits, "\(label): computeOutputShapes \(formatShape(s)) vs actual \(y.shape)", file: file, line: line)
        }
        target = try target + (try y * c.array("proj\(j)")).sum()
    }
    for (i, x) in watched.enumerated() where x.isTracked {
        let g = try XCTUnwrap(try tape.gradient(of: target, wrt: [x])[0] ?? Tensor.zeros(x.shape), "\(label): input gradient \(i)")
        assertClose(g, try c.array("gin\(i)"), atol: gradTolerance, rtol: gradTolerance, "\(label) input gradient \(i)", file: file, line: line)
    }
    let flags = (c.meta["trainable"]?.arrayValue ?? []).map { $0.boolValue ?? false }
    let weights = layer.weights
    for (k, isTrainable) in flags.enumerated() where isTrainable && k < weights.count {
        let g = try tape.gradient(of: target, wrt: [weights[k]])[0] ?? Tensor.zeros(weights[k].shape)
        assertClose(g, try c.array("gw\(k)"), atol: gradTolerance, rtol: gradTolerance, "\(label) gradient of \(weights[k].name)", file: file, line: line)
    }
    XCTAssertEqual(weights.count, flags.count, "zipped lists differ in length", file: file, line: line)
    XCTAssertEqual(Set(layer.trainableWeights.map { $0.name }),
                   Set(zip(weights, flags).filter { $0.1 }.map { $0.0.name }), "\(label): trainable weights", file: file, line: line)

    // Losses (activity and weight regularizers).
    let expectedLoss = Float(c.meta["losses_total"]?.doubleValue ?? 0)
    let loss = try (layer.losses + layer.regularizationLosses()).reduce(Tensor(0)) { try $0 + $1.sum() }
    XCTAssertEqual(loss.scalar, expectedLoss, accuracy: 1e-5 + 1e-5 * abs(expectedLoss), "\(label): losses", file: file, line: line)

    // Config round trip: the same config, and a layer rebuilt from it computes the same.
    XCTAssertEqual(JSONValue.object(layer.getConfig()), JSONValue.object(configObject), "\(label): config round trip", file: file, line: line)
    if !training {
        let again = try LayerRegistry.makeLayer(className: className, config: LayerConfig(layer.getConfig(), keras2: config.keras2))
        try again.buildIfNeeded(inputs.map { $0.shape.map { Optional($0) } })
        try again.setWeights(layer.getWeights())
        let second = try again(inputs, training: false)
        XCTAssertEqual(second.count, outputs.count, "zipped lists differ in length", file: file, line: line)
        for (a, b) in zip(second, outputs) { XCTAssertEqual(a.scalars, b.scalars, "\(label): rebuilt layer output", file: file, line: line) }
    }
}

/// Asserts equal shapes and elements within `atol + rtol·|expected|`.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float,
                 _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(name): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    let comparison = ElementComparison.absolute(actual.scalars, expected.scalars, atol: atol, rtol: rtol)
    if !comparison.passes {
        let i = comparison.firstOver
        XCTFail("\(name): element \(i): \(actual.scalars[i]) != expected \(expected.scalars[i]); \(comparison)", file: file, line: line)
    }
}
