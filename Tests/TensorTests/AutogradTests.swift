import XCTest
import Tensor

/// The tape itself: accumulation, no-grad scopes, custom gradients, variables,
/// and that the finite-difference checker catches broken gradients.
final class AutogradTests: XCTestCase {
    func testGradientsAccumulateWhenATensorIsUsedTwice() throws {
        // y = x·x + x  ⇒  dy/dx = 2x + 1.
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [3], scalars: [1, -2, 0.5]))
        let y = try (try x * x + x).sum()
        let g = try XCTUnwrap(try tape.gradient(of: y, wrt: [x])[0])
        XCTAssertEqual(g.scalars, [3, -3, 2])
    }

    func testNoGradientScopeRecordsNothing() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [2], scalars: [1, 2]))
        let y = withoutGradient { x * 3 }
        XCTAssertFalse(y.isTracked)
        XCTAssertThrowsError(try tape.gradient(of: y, wrt: [x])) { error in
            XCTAssertTrue("\(error)".contains("not computed from any watched"), "\(error)")
        }
    }

    func testDetachedStopsTheGradient() throws {
        // y = x·stop(x)  ⇒  dy/dx = x.
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [2], scalars: [2, -3]))
        let y = try x * x.detached
        XCTAssertEqual(try tape.gradient(of: y, wrt: [x])[0]?.scalars, [2, -3])
    }

    func testCustomGradientReplacesTheBackwardPass() throws {
        // Straight-through rounding: forward rounds, backward passes the gradient.
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [3], scalars: [0.4, 1.6, -2.5]))
        let y = Tensor.customGradient("straight_through", inputs: [x], forward: { $0[0].round() }) { g in [g] }
        XCTAssertEqual(y.scalars, [0, 2, -2])
        let g = try tape.gradient(of: y, wrt: [x], outputGradient: Tensor(shape: [3], scalars: [1, 2, 3]))
        XCTAssertEqual(g[0]?.scalars, [1, 2, 3])
    }

    func testWrongShapedCustomGradientIsAnError() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [3], scalars: [1, 2, 3]))
        let y = Tensor.customGradient("bad", inputs: [x], forward: { $0[0] }) { _ in [Tensor.zeros([2])] }
        XCTAssertThrowsError(try tape.gradient(of: y, wrt: [x])) { error in
            XCTAssertEqual("\(error)", "gradient: bad produced a gradient of shape [2] for an input of shape [3]")
        }
    }

    func testTrainableVariablesAreWatchedInsideRecord() throws {
        let w = Variable(Tensor(shape: [2], scalars: [3, 4]), name: "w")
        let frozen = Variable(Tensor(shape: [2], scalars: [1, 1]), name: "frozen", trainable: false)
        let tape = GradientTape()
        let loss = try tape.record { try (try w.read() * w.read() * frozen.read()).sum() }
        let grads = try tape.gradient(of: loss, wrt: [w, frozen])
        XCTAssertEqual(grads[0]?.scalars, [6, 8])
        XCTAssertNil(grads[1])
    }

    func testVariableAssignChecksTheShape() {
        let w = Variable(Tensor.zeros([2, 3]), name: "dense/kernel")
        XCTAssertThrowsError(try w.assign(Tensor.zeros([3, 2]))) { error in
            XCTAssertEqual("\(error)", "shape mismatch: cannot assign a tensor of shape [3, 2] to variable 'dense/kernel' of shape [2, 3]")
        }
    }

    func testGradientWithRespectToAnIntermediateTensor() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [2], scalars: [1, 2]))
        let h = x * 2
        let y = try (h * h).sum()
        let g = try tape.gradient(of: y, wrt: [h, x])
        XCTAssertEqual(g[0]?.scalars, [4, 8])
        XCTAssertEqual(g[1]?.scalars, [8, 16])
    }

    // The checker must fail on the three classic gradient bugs.
    func testCheckerCatchesAWrongSign() throws {
        var rng = TestRandom(seed: 1)
        let x = rng.tensor([4])
        let (error, _) = try gradientError(inputs: [x]) { xs in
            try Tensor.customGradient("wrong_sign", inputs: xs, forward: { $0[0].square() }) { g in [try g * xs[0] * -2] }
        }
        XCTAssertGreaterThan(error, 0.5)
    }

    func testCheckerCatchesAMissingTerm() throws {
        // d(a·b)/da = b; pretend it is 0 for the second input.
        var rng = TestRandom(seed: 2)
        let (a, b) = (rng.tensor([3]), rng.tensor([3]))
        let (error, _) = try gradientError(inputs: [a, b]) { xs in
            try Tensor.customGradient("missing_term", inputs: xs, forward: { try $0[0] * $0[1] }) { g in
                [try g * xs[1].detached, Tensor.zeros([3])]
            }
        }
        XCTAssertGreaterThan(error, 0.1)
    }

    func testCheckerCatchesAnUnreducedBroadcast() throws {
        // A bias of shape [3] added to [2, 3] must get the sum over rows.
        var rng = TestRandom(seed: 3)
        let (x, bias) = (rng.tensor([2, 3]), rng.tensor([3]))
        let (error, _) = try gradientError(inputs: [x, bias]) { xs in
            try Tensor.customGradient("unreduced", inputs: xs, forward: { try $0[0] + $0[1] }) { g in
                [g, try g.slice(begin: [0, 0], size: [1, 3]).reshaped(to: [3])]
            }
        }
        XCTAssertGreaterThan(error, 0.3)
    }
}
