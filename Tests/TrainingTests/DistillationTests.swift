import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// The distillation losses against TensorFlow (tools/gen_distillation_fixtures.py):
/// the value and its gradient with respect to the student's outputs.
final class DistillationTests: XCTestCase {
    func testLossesMatchTensorFlow() throws {
        let cases = try Fixture.json("distillation.json").cases
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let teacher = try XCTUnwrap(c["teacher"]).tensor, student = try XCTUnwrap(c["student"]).tensor
            let weight = try c["sample_weight"]?.optionalTensor
            let tape = GradientTape()
            let s = tape.watch(student)
            let value: Tensor
            if c["kind"]?.stringValue == "kl" {
                let temperature = try XCTUnwrap(c["temperature"]?.doubleValue)
                let fromLogits = c["from_logits"]?.boolValue ?? true
                value = try Distillation.klDivergence(student: s, teacher: teacher, temperature: temperature,
                                                      fromLogits: fromLogits, sampleWeight: weight)
            } else {
                value = try Distillation.meanSquaredError(student: s, teacher: teacher, sampleWeight: weight)
            }
            let expected = try XCTUnwrap(c["value"]?.doubleValue)
            XCTAssertEqual(Double(value.scalar), expected, accuracy: 1e-6 + 1e-5 * abs(expected), "\(c.name) value")
            let grad = try XCTUnwrap(try tape.gradient(of: value, wrt: [s])[0])
            assertClose(grad, try XCTUnwrap(c["grad"]).tensor, atol: 1e-6, rtol: 1e-4, "\(c.name) gradient")
        }
    }

    /// Hand derivation: identical logits give identical distributions, so
    /// KL = 0 and its gradient is 0 at any temperature.
    func testIdenticalOutputsCostNothing() throws {
        let z = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 4])
        let tape = GradientTape()
        let s = tape.watch(z)
        let value = try Distillation.klDivergence(student: s, teacher: z, temperature: 3)
        XCTAssertEqual(value.scalar, 0, accuracy: 1e-7)
        let grad = try XCTUnwrap(try tape.gradient(of: value, wrt: [s])[0])
        XCTAssertTrue(grad.scalars.allSatisfy { abs($0) < 1e-6 }, "\(grad.scalars)")
    }

    /// A softmax output keeps its logits: the loss on it equals the loss on the logits.
    func testProbabilitiesUseTheirKeptLogits() throws {
        let teacher = Tensor(shape: [1, 3], scalars: [2, 0, -1]), student = Tensor(shape: [1, 3], scalars: [0, 1, 0])
        let onLogits = try Distillation.klDivergence(student: student, teacher: teacher, temperature: 2)
        let onSoftmax = try Distillation.klDivergence(student: try student.softmax(), teacher: try teacher.softmax(),
                                                      temperature: 2, fromLogits: false)
        XCTAssertEqual(onSoftmax.scalar, onLogits.scalar, accuracy: 1e-6)
    }

    func testAgreementAndErrors() throws {
        let a = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 5, 4]), b = Tensor(shape: [3, 2], scalars: [2, 1, 3, 1, 0, 9])
        let agreement = try Distillation.agreement(student: a, teacher: b)
        XCTAssertEqual(agreement.matches, 1)
        XCTAssertEqual(agreement.count, 3)
        XCTAssertThrowsError(try DistillationKLDivergence(temperature: 0)) { error in
            XCTAssertEqual("\(error)", "bad config: DistillationKLDivergence: temperature must be positive, got 0.0")
        }
        XCTAssertThrowsError(try Distillation.meanSquaredError(student: a, teacher: Tensor.zeros([3, 3])))
        let loss = try DistillationKLDivergence(temperature: 2.5)
        XCTAssertEqual(loss.getConfig()["temperature"], .double(2.5))
        XCTAssertEqual(loss.getConfig()["name"], "distillation_kl_divergence")
    }
}
