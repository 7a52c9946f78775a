import Tensor
import TestSupport
import XCTest

/// The harness's closeness helper fails on a NaN anywhere and counts every element over.
final class ComparisonHelperTests: FailureCapturingTestCase {
    func testAssertCloseFailsOnANaNAnywhere() {
        let expected = Tensor(shape: [3], scalars: [1, 2, 3])
        for position in 0..<3 {
            var scalars = expected.scalars
            scalars[position] = .nan
            let failures = capturing { assertClose(Tensor(shape: [3], scalars: scalars), expected, atol: 1e-5, rtol: 1e-5, "nan") }
            XCTAssertEqual(failures.count, 1, "NaN at \(position)")
            XCTAssertTrue(failures.first?.contains("1 of 3 elements over") == true, "\(failures)")
        }
    }
}
