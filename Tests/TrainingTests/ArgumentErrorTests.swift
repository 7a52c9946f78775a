import Layers
import Tensor
@testable import Training
import XCTest

/// A bad public argument throws `TrainingError.invalidArgument` naming it,
/// instead of stopping the program.
final class ArgumentErrorTests: XCTestCase {
    private func assertInvalidArgument<T>(_ body: @autoclosure () throws -> T, naming argument: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case TrainingError.invalidArgument(let message) = error else {
                return XCTFail("expected invalidArgument, got \(error)", line: line)
            }
            XCTAssertTrue(message.contains(argument), "\(message) does not name \(argument)", line: line)
        }
    }

    func testOptimizerArguments() {
        assertInvalidArgument(try SGD(momentum: 1.5), naming: "momentum")
        assertInvalidArgument(try SGD(momentum: -0.1), naming: "momentum")
        assertInvalidArgument(try Adam(clipnorm: 1, clipvalue: 1), naming: "clipvalue")
        assertInvalidArgument(try RMSprop(clipnorm: 1, globalClipnorm: 1), naming: "globalClipnorm")
        XCTAssertNoThrow(try SGD(momentum: 0.9))
    }

    func testScheduleArguments() {
        assertInvalidArgument(try ExponentialDecay(initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5), naming: "decaySteps")
        assertInvalidArgument(try CosineDecay(initialLearningRate: 0.1, decaySteps: -1), naming: "decaySteps")
        assertInvalidArgument(try PiecewiseConstantDecay(boundaries: [1, 2], values: [0.1, 0.2]), naming: "values")
    }

    func testMetricAndCallbackArguments() {
        assertInvalidArgument(try AUC(numThresholds: 1), naming: "numThresholds")
        assertInvalidArgument(try ReduceLROnPlateau(factor: 1), naming: "factor")
    }
}
