import Tensor
import TestSupport
import XCTest

/// The training tests' closeness helpers fail on a NaN anywhere and count every element over.
final class ComparisonHelperTests: FailureCapturingTestCase {
    func testAssertCloseFailsOnANaNAnywhere() {
        let expected = Tensor(shape: [3], scalars: [1, 2, 3])
        for position in 0..<3 {
            var scalars = expected.scalars
            scalars[position] = .nan
            let failures = capturing { assertClose(Tensor(shape: [3], scalars: scalars), expected, "nan") }
            XCTAssertEqual(failures.count, 1, "NaN at \(position)")
            XCTAssertTrue(failures.first?.contains("1 non-finite") == true, "\(failures)")
        }
    }

    func testParityComparisonFailsOnANaNAnywhere() {
        for position in 0..<3 {
            var actual: [Float] = [1, 2, 3]
            actual[position] = .nan
            let comparison = TrainingParityTests.compare(actual, [1, 2, 3])
            XCTAssertFalse(comparison.passes, "NaN at \(position)")
            XCTAssertEqual(comparison.nonFinite, 1)
            XCTAssertEqual(comparison.over, 1)
        }
        XCTAssertFalse(TrainingParityTests.compare([1, 2], [1, 2, 3]).passes, "a shorter list must not pass")
        XCTAssertTrue(TrainingParityTests.compare([1, 2, 3], [1, 2, 3]).passes)
    }
}
