import TestSupport
import XCTest
import Tensor

/// A seeded source of test inputs that stay away from kinks (0 for abs/relu,
/// ties for max) so finite differences are meaningful.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [low, high).
    mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
    /// A tensor of uniform values in [low, high).
    mutating func tensor(_ shape: [Int], _ low: Float = -1, _ high: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(low, high) })
    }
}

/// The worst disagreement between the tape's input gradients of `f` and central
/// finite differences of the scalar `sum(f(inputs) * projection)` for a random
/// projection, as (relative error, description). Objective sums run in Double.
func gradientError(inputs: [Tensor], seed: UInt64 = 7, epsilon: Float = 1e-2,
                   _ f: ([Tensor]) throws -> Tensor) throws -> (error: Double, worst: String) {
    var rng = TestRandom(seed: seed)
    let probe = try withoutGradient { try f(inputs) }
    let projection = rng.tensor(probe.shape, 0.5, 1.5)

    func objective(_ xs: [Tensor]) throws -> Double {
        let y = try withoutGradient { try f(xs) }
        return zip(y.scalars, projection.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    let tape = GradientTape()
    let watched = inputs.map { tape.watch($0) }
    let y = try f(watched)
    let grads = try tape.gradient(of: y, wrt: watched, outputGradient: projection)

    var worst = (error: 0.0, worst: "")
    for (i, x) in inputs.enumerated() {
        guard let g = grads[i] else { return (.infinity, "no gradient for input \(i)") }
        guard g.shape == x.shape else { return (.infinity, "gradient shape \(g.shape) for input \(i) of shape \(x.shape)") }
        for j in 0..<x.count {
            var plus = inputs, minus = inputs
            var sp = x.scalars, sm = x.scalars
            sp[j] += epsilon; sm[j] -= epsilon
            plus[i] = Tensor(shape: x.shape, scalars: sp)
            minus[i] = Tensor(shape: x.shape, scalars: sm)
            let numeric = (try objective(plus) - objective(minus)) / (2 * Double(epsilon))
            let analytic = Double(g.scalars[j])
            let err = abs(numeric - analytic) / max(1, abs(numeric))
            if err > worst.error { worst = (err, "input \(i) element \(j): analytic \(analytic) vs numeric \(numeric)") }
        }
    }
    return worst
}

/// Asserts that the tape's gradients of `f` agree with finite differences.
func checkGradients(_ name: String, inputs: [Tensor], seed: UInt64 = 7,
                    epsilon: Float = 1e-2, tolerance: Double = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    let (error, worst) = try gradientError(inputs: inputs, seed: seed, epsilon: epsilon, f)
    if error > tolerance { XCTFail("\(name): \(worst)", file: file, line: line) }
}

/// Loads `Fixtures/<name>.npy` of the test bundle.
func fixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "npy") else {
        throw TensorError.io("missing fixture \(name).npy: run `make fixtures`")
    }
    return try Tensor(npyFile: url)
}

/// Asserts equal shapes and elements within `atol + rtol·|expected|`.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-5,
                 _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(name): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    let comparison = ElementComparison.absolute(actual.scalars, expected.scalars, atol: atol, rtol: rtol)
    if !comparison.passes {
        let i = comparison.firstOver
        XCTFail("\(name): element \(i): \(actual.scalars[i]) != expected \(expected.scalars[i]); \(comparison)", file: file, line: line)
    }
}
