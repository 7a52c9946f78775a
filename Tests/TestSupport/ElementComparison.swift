/// An element-by-element comparison of computed values with reference values,
/// for the tests' "close enough" helpers.
///
/// Every element is checked; none is skipped. An element is over when its
/// error exceeds the bound; a non-finite computed value is over unless the
/// reference holds the same non-finite value (NaN for NaN, the same
/// infinity), so a NaN can never hide behind `max` (which skips a NaN unless
/// it comes first). Lists of different lengths never pass.
public struct ElementComparison: CustomStringConvertible {
    /// The number of elements compared (the shorter list's length).
    public private(set) var count = 0
    /// Elements outside the bound, non-finite mismatches included.
    public private(set) var over = 0
    /// Computed values that are NaN or infinite where the reference is not the same.
    public private(set) var nonFinite = 0
    /// The largest finite error, and where it is (-1 when there is none).
    public private(set) var worst: Float = 0
    public private(set) var worstIndex = -1
    /// The first element over the bound (-1 when there is none).
    public private(set) var firstOver = -1
    public let actualCount: Int
    public let expectedCount: Int

    /// Compares with `error(actual, expected)` against `bound(expected)`.
    public init(_ actual: [Float], _ expected: [Float], error: (Float, Float) -> Float, bound: (Float) -> Float) {
        actualCount = actual.count
        expectedCount = expected.count
        count = Swift.min(actual.count, expected.count)
        for i in 0..<count {
            let a = actual[i], e = expected[i]
            if !a.isFinite || !e.isFinite {
                if (a.isNaN && e.isNaN) || a == e { continue }
                nonFinite += a.isFinite ? 0 : 1
                over += 1
                if firstOver < 0 { firstOver = i }
                continue
            }
            let err = error(a, e)
            if err > worst || worstIndex < 0 { (worst, worstIndex) = (err, i) }
            if !(err <= bound(e)) {
                over += 1
                if firstOver < 0 { firstOver = i }
            }
        }
    }

    /// `|a − e| ≤ atol + rtol·|e|`; `worst` is the absolute difference.
    public static func absolute(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float) -> ElementComparison {
        ElementComparison(actual, expected, error: { Swift.abs($0 - $1) }, bound: { atol + rtol * Swift.abs($0) })
    }

    /// `|a − e| / max(|e|, floor) ≤ tolerance`; `worst` is that relative error.
    public static func relative(_ actual: [Float], _ expected: [Float], floor: Float, tolerance: Float) -> ElementComparison {
        ElementComparison(actual, expected, error: { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), floor) }, bound: { _ in tolerance })
    }

    /// Whether the lengths agree and no element is over.
    public var passes: Bool { actualCount == expectedCount && over == 0 }

    public var description: String {
        var parts: [String] = []
        if actualCount != expectedCount { parts.append("\(actualCount) values, expected \(expectedCount)") }
        if over > 0 { parts.append("\(over) of \(count) elements over the tolerance (first at \(firstOver))") }
        if nonFinite > 0 { parts.append("\(nonFinite) non-finite") }
        parts.append("worst error \(worst)" + (worstIndex >= 0 ? " at \(worstIndex)" : ""))
        return parts.joined(separator: "; ")
    }
}
