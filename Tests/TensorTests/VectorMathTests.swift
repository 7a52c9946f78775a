import Foundation
import XCTest
import Tensor

/// The eight-lane sigmoid, tanh, SiLU, erf and GELU kernels against the same functions
/// in Double (Foundation), and their gradients against finite differences.
/// Keras's own values for these activations are in OpFixtureTests.
final class VectorMathTests: XCTestCase {
    /// Points across the whole range: tiny, around the series/exp switch of
    /// tanh (|2x| = 0.35), the exp clamp (−87.3), and beyond.
    private var grid: [Float] {
        var xs: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-8, -1e-6, 1e-4, 0.174, 0.175, 0.176, -0.175,
                           87, -87, 87.5, -87.5, 100, -100, 1e4, -1e4, .infinity, -.infinity]
        xs += stride(from: Float(-30), through: 30, by: 0.0137).map { $0 }
        return xs
    }

    private func check(_ name: String, _ op: (Tensor) -> Tensor, _ reference: (Double) -> Double,
                       extraPoints: [Float] = [], slack: (Double) -> Double = { _ in 0 },
                       file: StaticString = #filePath, line: UInt = #line) {
        let xs = grid + extraPoints
        let y = op(Tensor(shape: [xs.count], scalars: xs))
        for (x, v) in zip(xs, y.scalars) {
            let expected = reference(Double(x))
            if Double(v) == expected || (v.isNaN && expected.isNaN) { continue }
            // 4 ulp of the exact value; exp flushes to 0 below the smallest
            // normal float (1.2e-38), which SiLU then scales by |x|.
            let allowed = Swift.max(4 * Double(Float(expected).ulp), 1.2e-38 * Swift.max(1, abs(Double(x))))
                + slack(Double(x))
            if !(abs(Double(v) - expected) <= allowed) {
                XCTFail("\(name)(\(x)) = \(v), expected \(expected)", file: file, line: line)
                return
            }
        }
    }

    func testSigmoidMatchesDoublePrecision() {
        check("sigmoid", { $0.sigmoid() }) { 1 / (1 + Foundation.exp(-$0)) }
    }

    func testTanhMatchesDoublePrecision() {
        check("tanh", { $0.tanh() }) { Foundation.tanh($0) }
    }

    func testSiluMatchesDoublePrecision() {
        // −∞ gives −∞ · 0 = NaN, as x · sigmoid(x) does in TensorFlow.
        check("silu", { $0.silu() }) { $0 * (1 / (1 + Foundation.exp(-$0))) }
    }

    /// Around erf's switch between its two formulas (|x| = 0.875), the
    /// largest errors of the derivation (tools/derive/erf_coefficients.py),
    /// and where erfc underflows.
    private let erfPoints: [Float] = [0.874, 0.87499, 0.875, 0.87501, 0.876, -0.875, 0.9585, 2.0323, 3.9, 4, 4.1,
                                      6, 9.2, 9.4, 10, 10.5, -10.5, 3e-39, -3e-39]

    func testErfMatchesDoublePrecision() {
        check("erf", { $0.erf() }, { Foundation.erf($0) }, extraPoints: erfPoints)
    }

    func testGeluMatchesDoublePrecision() {
        // x/√2 is rounded to float (relative error ≤ 2⁻²³ with the rounded
        // constant), which moves GELU by up to x · φ(x) · |x| · 2⁻²³ (φ the
        // normal density) whatever the erf: allowed on top of the 4 ulp.
        let halfErfc: (Double) -> Double = { x in 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) }
        check("gelu", { $0.gelu() }, halfErfc, extraPoints: erfPoints.map { Float(Double($0) * 2.0.squareRoot()) }) { x in
            x * x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot() * 0x1p-23
        }
    }

    func testNaNPropagates() {
        let x = Tensor(shape: [9], scalars: [Float](repeating: .nan, count: 9))
        for (name, y) in [("sigmoid", x.sigmoid()), ("tanh", x.tanh()), ("silu", x.silu()), ("erf", x.erf()),
                          ("gelu", x.gelu())] {
            XCTAssertTrue(y.scalars.allSatisfy { $0.isNaN }, name)
        }
    }

    /// 35 elements: four full vectors and a tail of three.
    func testGradientsMatchFiniteDifferences() throws {
        var rng = TestRandom(seed: 21)
        let x = rng.tensor([5, 7], -4, 4)
        try checkGradients("sigmoid", inputs: [x], epsilon: 1e-3) { $0[0].sigmoid() }
        try checkGradients("tanh", inputs: [x], epsilon: 1e-3) { $0[0].tanh() }
        try checkGradients("silu", inputs: [x], epsilon: 1e-3) { $0[0].silu() }
        try checkGradients("erf", inputs: [x], epsilon: 1e-3) { $0[0].erf() }
        try checkGradients("gelu", inputs: [x], epsilon: 1e-3) { $0[0].gelu() }
    }

    /// The fused inference step against the same step composed from ops.
    func testLSTMGatesMatchTheComposedStep() throws {
        var rng = TestRandom(seed: 5)
        let units = 16
        let z = rng.tensor([3, 5, 4 * units], -3, 3), carry = rng.tensor([3, 5, units], -2, 2)
        guard let (h, c) = Tensor.lstmGatesInference(z, carry: carry) else { return XCTFail("no fused step") }
        let g = try z.split(count: 4, axis: -1)
        let expectedC = try g[1].sigmoid() * carry + g[0].sigmoid() * g[2].tanh()
        let expectedH = try g[3].sigmoid() * expectedC.tanh()
        assertClose(c, expectedC, atol: 1e-6, rtol: 1e-6, "carry")
        assertClose(h, expectedH, atol: 1e-6, rtol: 1e-6, "output")
    }

    func testLSTMGatesDeclineTrackedInputsAndOddUnits() {
        var rng = TestRandom(seed: 6)
        let z = rng.tensor([2, 32]), carry = rng.tensor([2, 8])
        XCTAssertNil(Tensor.lstmGatesInference(GradientTape().watch(z), carry: carry))
        XCTAssertNil(Tensor.lstmGatesInference(rng.tensor([2, 24]), carry: rng.tensor([2, 6])))
        XCTAssertNil(Tensor.lstmGatesInference(rng.tensor([2, 16]), carry: carry), "z must hold 4 · units")
    }

    /// The gates recorded on a tape against the step composed from ops: the
    /// same values, and the same gradients of a loss that reaches the carry
    /// both directly and through the output.
    func testLSTMGatesWithGradientMatchTheComposedStep() throws {
        var rng = TestRandom(seed: 8)
        let units = 16
        let z = rng.tensor([3, 5, 4 * units], -3, 3), carry = rng.tensor([3, 5, units], -2, 2)
        let p = rng.tensor([3, 5, units], 0.5, 1.5), q = rng.tensor([3, 5, units], -1, 1)
        func run(fused: Bool) throws -> [Tensor] {
            let tape = GradientTape()
            let (zw, cw) = (tape.watch(z), tape.watch(carry))
            var h: Tensor, c: Tensor
            if fused {
                guard let r = Tensor.lstmGates(zw, carry: cw) else { throw TensorError.invalidArgument("no fused step") }
                (h, c) = r
            } else {
                let g = try zw.split(count: 4, axis: -1)
                c = try g[1].sigmoid() * cw + g[0].sigmoid() * g[2].tanh()
                h = try g[3].sigmoid() * c.tanh()
            }
            let loss = try h * p + c * q
            let grads = try tape.gradient(of: loss, wrt: [zw, cw])
            return [h, c, grads[0]!, grads[1]!]
        }
        let (fused, composed) = (try run(fused: true), try run(fused: false))
        for (i, name) in ["output", "carry", "dz", "dcarry"].enumerated() {
            assertClose(fused[i], composed[i], atol: 1e-6, rtol: 1e-6, name)
        }
        // Recorded or not, the forward values are the same floats.
        let inference = Tensor.lstmGatesInference(z, carry: carry)!
        XCTAssertEqual(fused[0], inference.h)
        XCTAssertEqual(fused[1], inference.c)
    }

    /// 2 × 3 rows of 8 units: one full vector per gate.
    func testLSTMGatesGradientsMatchFiniteDifferences() throws {
        var rng = TestRandom(seed: 9)
        let z = rng.tensor([2, 3, 32], -2, 2), carry = rng.tensor([2, 3, 8], -1.5, 1.5)
        func gates(_ x: [Tensor]) throws -> (h: Tensor, c: Tensor) {
            guard let r = Tensor.lstmGates(x[0], carry: x[1]) else { throw TensorError.invalidArgument("no fused step") }
            return r
        }
        try checkGradients("lstmGates h", inputs: [z, carry], epsilon: 1e-3) { try gates($0).h }
        try checkGradients("lstmGates c", inputs: [z, carry], epsilon: 1e-3) { try gates($0).c }
        try checkGradients("lstmGates h + 2c", inputs: [z, carry], epsilon: 1e-3) { x in
            let r = try gates(x)
            return try r.h + r.c * 2
        }
    }

    func testLSTMGatesWithGradientDeclineOddUnits() {
        var rng = TestRandom(seed: 10)
        let tape = GradientTape()
        XCTAssertNil(Tensor.lstmGates(tape.watch(rng.tensor([2, 24])), carry: rng.tensor([2, 6])))
        XCTAssertNil(Tensor.lstmGates(tape.watch(rng.tensor([2, 16])), carry: rng.tensor([2, 8])), "z must hold 4 · units")
    }
}
