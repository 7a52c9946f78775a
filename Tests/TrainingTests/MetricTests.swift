import Layers
import Tensor
@testable import Training
import XCTest

/// Each metric against Keras 3 after every one of three `update_state` calls.
final class MetricTests: XCTestCase {
    func testMetricsMatchKeras() throws {
        let cases = try Fixture.json("metrics.json").cases
        XCTAssertGreaterThan(cases.count, 15)
        for c in cases {
            let metric = try Metrics.deserialize(try XCTUnwrap(c["metric"]))
            for (i, u) in try XCTUnwrap(c["updates"]?.arrayValue).enumerated() {
                let yPred = try XCTUnwrap(u["y_pred"]).tensor, weight = try u["sample_weight"]?.optionalTensor
                if let mean = metric as? Mean, !(metric is MeanMetricWrapper) {
                    try mean.update(yPred, sampleWeight: weight)
                } else {
                    try metric.update(yTrue: try XCTUnwrap(u["y_true"]).tensor, yPred: yPred, sampleWeight: weight)
                }
                let expected = try XCTUnwrap(u["result"]?.doubleValue)
                XCTAssertEqual(Double(metric.result()), expected, accuracy: 1e-6 + 1e-5 * Swift.abs(expected),
                               "metric \(c.name) after update \(i + 1)")
            }
            let keras = try XCTUnwrap(c["metric"]?["config"]?.objectValue)
            XCTAssertTrue(jsonEquivalent(.object(metric.getConfig()), .object(keras)),
                          "metric \(c.name): config \(metric.getConfig()) vs Keras \(keras)")
            XCTAssertEqual(metric.serialize()["class_name"], c["metric"]?["class_name"], "metric \(c.name): class name")
            metric.reset()
            XCTAssertEqual(metric.result(), 0, "metric \(c.name): reset")
        }
    }

    func testAccuracyIdentifierFollowsShapes() throws {
        let probs = Tensor(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 0.1, 0.8, 0.1])
        let sparse = try "accuracy".resolveMetric(yTrue: Tensor(shape: [2, 1], scalars: [2, 1]), yPred: probs)
        XCTAssertTrue(sparse is SparseCategoricalAccuracy)
        XCTAssertEqual(sparse.name, "accuracy")
        XCTAssertTrue(try "acc".resolveMetric(yTrue: probs, yPred: probs) is CategoricalAccuracy)
        let binary = try "accuracy".resolveMetric(yTrue: Tensor(shape: [2], scalars: [0, 1]), yPred: Tensor(shape: [2, 1], scalars: [0.2, 0.7]))
        XCTAssertTrue(binary is BinaryAccuracy)
        XCTAssertEqual(try "mse".resolveMetric(yTrue: probs, yPred: probs).name, "mse")
    }

    func testDirections() throws {
        XCTAssertEqual(try Metrics.get("auc").direction, .up)
        XCTAssertEqual(try Metrics.get("mae").direction, .down)
        XCTAssertNil(Mean().direction)
    }

    func testKeras2MeanMetricWrapper() throws {
        let m = try Metrics.deserialize(["class_name": "MeanMetricWrapper",
                                         "config": ["name": "acc", "dtype": "float32", "fn": "categorical_accuracy"]])
        XCTAssertTrue(m is CategoricalAccuracy)
        XCTAssertEqual(m.name, "acc")
    }
}
