import Layers
@testable import Training
import XCTest

/// Learning-rate schedules against Keras 3, step by step.
final class ScheduleTests: XCTestCase {
    func testSchedulesMatchKeras() throws {
        // tools/gen_training_fixtures.py writes 6 schedule cases.
        let cases = try Fixture.json("schedules.json").cases
        XCTAssertEqual(cases.count, 6, "schedule cases in schedules.json")
        for c in cases {
            let json = try XCTUnwrap(c["schedule"])
            let schedule = try LearningRateSchedules.deserialize(json)
            let steps = try XCTUnwrap(c["steps"]?.arrayValue).map { $0.intValue! }
            let values = try XCTUnwrap(c["values"]?.arrayValue).map { Float($0.doubleValue!) }
            XCTAssertEqual(steps.count, values.count, "schedule \(c.name): steps and values")
            XCTAssertFalse(steps.isEmpty, "schedule \(c.name): no steps")
            for (step, expected) in zip(steps, values) {
                XCTAssertEqual(schedule(step), expected, accuracy: 1e-7 + 2e-6 * Swift.abs(expected), "schedule \(c.name) at step \(step)")
            }
            XCTAssertTrue(jsonEquivalent(schedule.serialize(), json), "schedule \(c.name): serialize \(schedule.serialize().serialized())")
        }
    }

    func testBadConfigs() {
        XCTAssertThrowsError(try LearningRateSchedules.deserialize(["class_name": "ExponentialDecay",
            "config": ["initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5]]))
        XCTAssertThrowsError(try LearningRateSchedules.deserialize(["class_name": "PiecewiseConstantDecay",
            "config": ["boundaries": [1, 2], "values": [0.1, 0.2]]])) { error in
            XCTAssertTrue("\(error)".contains("2 boundaries need 3 values"), "\(error)")
        }
        XCTAssertThrowsError(try LearningRateSchedules.deserialize(["class_name": "InverseTimeDecay", "config": [:]]))
    }
}
