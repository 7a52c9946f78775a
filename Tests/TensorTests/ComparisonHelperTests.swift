import Tensor
import TestSupport
import XCTest

/// The tests' closeness helper must fail on a NaN wherever it sits (Swift's
/// `max` skips a NaN unless it comes first) and count every element over.
final class ComparisonHelperTests: FailureCapturingTestCase {
    func testAssertCloseFailsOnANaNAnywhere() {
        let expected = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        for position in 0..<4 {
            var scalars = expected.scalars
            scalars[position] = .nan
            let failures = capturing { assertClose(Tensor(shape: [4], scalars: scalars), expected, "nan at \(position)") }
            XCTAssertEqual(failures.count, 1, "NaN at \(position)")
            XCTAssertTrue(failures.first?.contains("1 non-finite") == true, "\(failures)")
        }
        XCTAssertEqual(capturing { assertClose(Tensor(shape: [2], scalars: [.nan, 1]), Tensor(shape: [2], scalars: [.nan, 1]), "same NaN") }, [])
    }

    func testAssertCloseCountsEveryElementOver() {
        let failures = capturing {
            assertClose(Tensor(shape: [4], scalars: [1.1, 2, 3.1, .infinity]), Tensor(shape: [4], scalars: [1, 2, 3, 4]), "three over")
        }
        XCTAssertEqual(failures.count, 1)
        XCTAssertTrue(failures.first?.contains("3 of 4 elements over the tolerance (first at 0)") == true, "\(failures)")
    }

    func testComparisonRejectsDifferentLengths() {
        XCTAssertFalse(ElementComparison.absolute([1, 2], [1, 2, 3], atol: 1, rtol: 0).passes)
        XCTAssertTrue(ElementComparison.absolute([1, 2], [1, 2], atol: 0, rtol: 0).passes)
    }
}
