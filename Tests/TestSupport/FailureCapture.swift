import XCTest

/// A test case that can run assertions and collect their failures instead of
/// failing, to test the tests' own closeness helpers.
open class FailureCapturingTestCase: XCTestCase {
    private var captured: [String]?

    override open func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int,
                                     expected: Bool) {
        if captured != nil {
            captured!.append(description)
        } else {
            super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
        }
    }

    /// The failures that `body` records.
    public func capturing(_ body: () -> Void) -> [String] {
        captured = []
        body()
        defer { captured = nil }
        return captured ?? []
    }
}
