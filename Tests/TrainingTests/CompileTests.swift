import Layers
import Tensor
@testable import Training
import XCTest

/// `compile` from and to Keras's compile config (the `training_config` of saved models).
final class CompileTests: XCTestCase {
    private func model(outputs: Int) throws -> Model {
        let x = Input(shape: [3], name: "x")
        if outputs == 1 { return try Model(inputs: [x], outputs: [try Dense(units: 2, name: "y")(x)]) }
        return try Model(inputs: [x], outputs: [try Dense(units: 2, name: "head_a")(x), try Dense(units: 1, name: "head_b")(x)])
    }

    func testKerasCompileConfigsRoundTrip() throws {
        // tools/gen_training_fixtures.py writes 3 compile configs.
        let cases = try Fixture.json("compile.json").cases
        XCTAssertEqual(cases.count, 3, "cases in compile.json")
        for c in cases {
            let keras = try XCTUnwrap(c["compile_config"]?.objectValue)
            let m = try model(outputs: try XCTUnwrap(c["outputs"]?.intValue))
            try m.compile(config: keras)
            let ours = try XCTUnwrap(m.compileConfig)
            XCTAssertTrue(jsonEquivalent(.object(ours), .object(keras)),
                          "compile \(c.name):\n  swift \(JSONValue.object(ours).serialized())\n  keras \(JSONValue.object(keras).serialized())")
        }
    }

    func testCompileConfigRoundTrip() throws {
        let model = try smallRegressor()
        try model.compile(optimizer: Adam(learningRate: 0.003, amsgrad: true), loss: Huber(delta: 0.5), metrics: ["mae", AUC(name: "auc")])
        let config = try XCTUnwrap(model.compileConfig)
        XCTAssertEqual(config["metrics"]?.arrayValue?.first, "mae")
        let other = try smallRegressor()
        try other.compile(config: config)
        XCTAssertTrue(jsonEquivalent(.object(other.compileConfig!), .object(config)))
        XCTAssertEqual((other.optimizer as? Adam)?.amsgrad, true)

        // A Keras 2 training_config.
        let keras2: JSONObject = ["loss": "mean_squared_error", "metrics": [["mae"]], "weighted_metrics": nil, "loss_weights": nil,
                                  "optimizer_config": ["class_name": "Custom>RMSprop", "config": ["name": "RMSprop", "learning_rate": 0.01,
                                                       "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": false]]]
        try other.compile(config: keras2)
        XCTAssertTrue(other.optimizer is RMSprop)
        let (x, y) = regressionData(4)
        XCTAssertEqual(Set(try other.evaluate(x: x, y: y, verbose: 0).keys), ["loss", "mae"])
    }
}
