import XCTest
import Tensor
import Layers

/// Sequential and functional models against Keras (tools/gen_model_fixtures.py):
/// layer order, weight order, predictions and the summary table.
final class ModelTests: XCTestCase {
    func fixtureMeta(_ name: String) throws -> JSONValue {
        let url = try LayerCase.url("models", name, "json")
        return try JSONValue(parsing: String(contentsOf: url, encoding: .utf8))
    }

    func load(_ name: String, _ suffix: String) throws -> Tensor {
        try Tensor(npyFile: try LayerCase.url("models", "\(name).\(suffix)", "npy"))
    }

    /// The same graph as `sequential()` in the generator.
    func makeSequential() throws -> Sequential {
        try Sequential([InputLayer(batchShape: [nil, 4]), Dense(units: 8, activation: "relu", name: "hidden"),
                        Dense(units: 3, activation: "softmax", name: "probs")], name: "seq")
    }

    /// The same graph as `functional()` in the generator.
    func makeFunctional() throws -> Model {
        let a = Input(shape: [4], name: "a"), b = Input(shape: [4], name: "b")
        let shared = try Dense(units: 5, activation: "tanh", name: "shared")
        let (sa, sb) = (try shared(a), try shared(b))
        let inner = try Sequential([InputLayer(batchShape: [nil, 5]), Dense(units: 6, activation: "relu", name: "inner_dense")],
                                   name: "inner")
        let headA = try Dense(units: 2, name: "head_a")(try inner(sa))
        let outB = try ActivationLayer("sigmoid", name: "act_b")(try Dense(units: 3, name: "head_b")(sb))
        return try Model(inputs: [a, b], outputs: [headA, outB], name: "two_tower")
    }

    func check(_ name: String, _ model: Model, inputs: Int, outputs: Int) throws {
        let meta = try fixtureMeta(name)
        XCTAssertEqual(model.layers.map { $0.name }, meta["layers"]?.arrayValue?.compactMap { $0.stringValue }, "\(name): layer order")
        let weightCount = meta["weights"]?.arrayValue?.count ?? -1
        XCTAssertEqual(model.weights.count, weightCount)
        try model.setWeights(try (0..<weightCount).map { try load(name, "w\($0)") })
        let xs = try (0..<inputs).map { try load(name, "in\($0)") }
        let ys = try model.predictOnBatch(xs)
        XCTAssertEqual(ys.count, outputs)
        for (j, y) in ys.enumerated() { assertClose(y, try load(name, "out\(j)"), atol: 1e-5, rtol: 1e-5, "\(name) output \(j)") }
        for length in [60, 76] {
            let expected = meta["summary"]?["\(length)"]?.stringValue
            XCTAssertEqual(model.summary(lineLength: length), expected, "\(name): summary at line length \(length)")
        }
    }

    func testSequentialMatchesKeras() throws {
        try check("sequential", try makeSequential(), inputs: 1, outputs: 1)
    }

    func testFunctionalWithSharedAndNestedLayersMatchesKeras() throws {
        try check("functional", try makeFunctional(), inputs: 2, outputs: 2)
    }

    func testSequentialBuiltOnFirstCallAndByAdd() throws {
        let model = try Sequential(name: "lazy")
        try model.add(try Dense(units: 3, name: "l1"))
        try model.add(try ActivationLayer("relu"))
        XCTAssertFalse(model.built)
        let y = try model(Tensor.ones([2, 5]))
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(model.weights.map { $0.name }, ["l1/kernel", "l1/bias"])
        try model.pop()
        XCTAssertEqual(model.layers.count, 1)
    }

    func testLayerLookupByName() throws {
        let model = try makeFunctional()
        XCTAssertTrue(try model.layer(named: "head_b") is Dense)
        XCTAssertThrowsError(try model.layer(named: "nope")) { error in
            XCTAssertTrue("\(error)".hasPrefix("layer 'two_tower': no layer named 'nope'"), "\(error)")
        }
    }

    func testWrongInputShapeNamesModelAndInput() throws {
        let model = try makeFunctional()
        XCTAssertThrowsError(try model.predictOnBatch([Tensor.zeros([2, 4]), Tensor.zeros([2, 5])])) { error in
            XCTAssertEqual("\(error)", "layer 'two_tower': input 1 must have shape (None, 4), got (2, 5)")
        }
        XCTAssertThrowsError(try model.predictOnBatch([Tensor.zeros([2, 4])])) { error in
            XCTAssertEqual("\(error)", "layer 'two_tower': expects 2 input(s), got 1")
        }
    }

    func testDisconnectedGraphAndDuplicateNamesAreErrors() throws {
        let a = Input(shape: [2]), b = Input(shape: [2])
        let y = try Dense(units: 1, name: "needs_b")(b)
        XCTAssertThrowsError(try Model(inputs: [a], outputs: [y])) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid model graph: graph disconnected"), "\(error)")
        }
        let x = Input(shape: [2])
        let h = try Dense(units: 2, name: "same")(x)
        let z = try Dense(units: 2, name: "same")(h)
        XCTAssertThrowsError(try Model(inputs: [x], outputs: [z])) { error in
            XCTAssertTrue("\(error)".contains("the name 'same' is used more than once"), "\(error)")
        }
    }

    func testGradientsFlowThroughAFunctionalModel() throws {
        let model = try makeFunctional()
        var rng = SeededGenerator(seed: 3)
        let xs = [Tensor.randomNormal([2, 4], generator: &rng), Tensor.randomNormal([2, 4], generator: &rng)]
        let tape = GradientTape()
        let loss = try tape.record { () -> Tensor in
            let ys = try model(xs, training: true)
            return try (try ys[0].square().sum()) + (try ys[1].sum())
        }
        let grads = try tape.gradient(of: loss, wrt: model.trainableWeights)
        XCTAssertEqual(grads.count, 8)
        XCTAssertEqual(grads.count, model.trainableWeights.count, "zipped lists differ in length")
        for (g, w) in zip(grads, model.trainableWeights) { XCTAssertEqual(g?.shape, w.shape, w.name) }
    }
}
