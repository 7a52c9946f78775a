import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// Each loss against Keras 3 (tools/gen_training_fixtures.py, `gen_losses`):
/// the reduced value and its gradient with respect to the predictions.
final class LossTests: XCTestCase {
    func testLossesMatchKeras() throws {
        let cases = try Fixture.json("losses.json").cases
        XCTAssertGreaterThan(cases.count, 20)
        for c in cases {
            let label = "loss \(c.name)"
            let loss = try Losses.deserialize(try XCTUnwrap(c["loss"]))
            let yTrue = try XCTUnwrap(c["y_true"]).tensor, yPred = try XCTUnwrap(c["y_pred"]).tensor
            let weight = try c["sample_weight"]?.optionalTensor
            let tape = GradientTape()
            let p = tape.watch(yPred)
            let value = try loss(yTrue, p, sampleWeight: weight)
            assertClose(value, try XCTUnwrap(c["value"]).tensor, atol: 1e-6, rtol: 1e-5, "\(label) value")
            let grad = try XCTUnwrap(try tape.gradient(of: try value.sum(), wrt: [p])[0])
            assertClose(grad, try XCTUnwrap(c["grad"]).tensor, atol: 1e-6, rtol: 1e-4, "\(label) gradient")
            // The config is Keras's, plus `delta`/`axis` where Keras drops them.
            let keras = try XCTUnwrap(c["keras_config"]?.objectValue)
            var ours = loss.getConfig()
            if loss is Huber { ours["delta"] = nil }
            if loss is CosineSimilarity { ours["axis"] = nil }
            XCTAssertTrue(jsonEquivalent(.object(ours), .object(keras)), "\(label): config \(ours) vs Keras \(keras)")
            let again = try Losses.deserialize(loss.serialize())
            XCTAssertTrue(jsonEquivalent(.object(again.getConfig()), .object(loss.getConfig())), "\(label): round trip")
        }
    }

    /// Keras computes crossentropy of a softmax or sigmoid output from the
    /// logits kept on it (`_keras_logits`). Hand derivation for logits
    /// z = [50, 0, 0] and class 1: the loss is logsumexp(z) − z₁ = 50 + log(1 +
    /// 2e⁻⁵⁰) = 50 in float32, and its gradient in z is softmax(z) − onehot =
    /// [1, −1, 0]; from the probabilities the clip at 1e-7 would give
    /// −log(1e-7) ≈ 16.118 and no gradient. For the sigmoid of z = −50 and
    /// target 1: softplus(50) = 50, gradient sigmoid(−50) − 1 = −1.
    func testSoftmaxAndSigmoidOutputsUseTheirLogits() throws {
        let z = Tensor(shape: [1, 3], scalars: [50, 0, 0])
        let cases: [(Loss, Tensor, Tensor, (Tensor) throws -> Tensor, [Float])] = [
            (SparseCategoricalCrossentropy(), z, Tensor(shape: [1], scalars: [1]), { try $0.softmax() }, [1, -1, 0]),
            (CategoricalCrossentropy(), z, Tensor(shape: [1, 3], scalars: [0, 1, 0]), { try $0.softmax() }, [1, -1, 0]),
            (BinaryCrossentropy(), Tensor(shape: [1, 1], scalars: [-50]), Tensor(shape: [1, 1], scalars: [1]),
             { $0.sigmoid() }, [-1]),
        ]
        for (loss, logits, target, activation, expectedGradient) in cases {
            let tape = GradientTape()
            let x = tape.watch(logits)
            let value = try loss(target, try activation(x))
            XCTAssertEqual(value.scalars[0], 50, accuracy: 1e-5, "\(loss.name)")
            let grad = try XCTUnwrap(try tape.gradient(of: value, wrt: [x])[0])
            XCTAssertEqual(grad.scalars.count, expectedGradient.count, "zipped lists differ in length")
            for (g, e) in zip(grad.scalars, expectedGradient) { XCTAssertEqual(g, e, accuracy: 1e-6, "\(loss.name) gradient") }
            // Any other op in between drops the logits: the clipped probabilities count.
            let viaProbabilities = try loss(target, try activation(logits) * 1)
            XCTAssertEqual(viaProbabilities.scalars[0], -Float(log(1e-7)), accuracy: 1e-3, "\(loss.name) without logits")
        }
    }

    func testStringIdentifiersNameTheLoss() throws {
        let mse = try Losses.get("mse")
        XCTAssertTrue(mse is MeanSquaredError)
        XCTAssertEqual(mse.name, "mse")
        XCTAssertEqual(try Losses.get("Huber").name, "huber_loss")
        XCTAssertTrue(try Losses.get("bce") is BinaryCrossentropy)
    }

    func testCrossentropyIdentifierFollowsShapes() throws {
        let probs = Tensor(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 0.1, 0.8, 0.1])
        XCTAssertTrue(try "crossentropy".resolveLoss(yTrue: Tensor(shape: [2], scalars: [2, 1]), yPred: probs) is SparseCategoricalCrossentropy)
        XCTAssertTrue(try "crossentropy".resolveLoss(yTrue: probs, yPred: probs) is CategoricalCrossentropy)
        XCTAssertTrue(try "ce".resolveLoss(yTrue: Tensor(shape: [2, 1], scalars: [0, 1]),
                                           yPred: Tensor(shape: [2, 1], scalars: [0.3, 0.6])) is BinaryCrossentropy)
    }

    func testBadLabelsAndConfigsThrow() throws {
        let loss = SparseCategoricalCrossentropy()
        XCTAssertThrowsError(try loss(Tensor(shape: [1], scalars: [3]), Tensor(shape: [1, 3], scalars: [0.2, 0.3, 0.5]))) { error in
            XCTAssertTrue("\(error)".contains("label 3.0 is outside the valid range [0, 3)"), "\(error)")
        }
        XCTAssertThrowsError(try Losses.deserialize(["class_name": "MeanSquaredError", "config": ["nmae": "x"]])) { error in
            XCTAssertTrue("\(error)".contains("unknown key(s) [\"nmae\"]"), "\(error)")
        }
        XCTAssertThrowsError(try Losses.get("hinge")) { error in
            XCTAssertEqual(error as? TrainingError, .unsupported("loss 'hinge'"))
        }
    }
}
