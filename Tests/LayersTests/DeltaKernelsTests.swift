import XCTest
import Tensor
@testable import Layers

/// The delta layer's fused, multi-core kernels (Layers/Delta/DeltaKernels.swift)
/// against the unfused tensor ops they replace, on inputs large enough to be
/// split into many blocks: reshape, slices, subtraction, |·| and mean for the
/// loss, and the single-threaded `Tensor.quantizeStepGradient` for the step.
final class DeltaKernelsTests: XCTestCase {
    private func seeded(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float>) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &g) })
    }

    /// Quantized frames with many equal neighbours, so zero differences occur.
    private func frames(clips: Int, frames: Int, frameShape: [Int]) throws -> Tensor {
        let x = seeded([clips * frames] + frameShape, seed: 5, in: -1...1)
        return try Tensor.quantize(x, step: Tensor(shape: [1], scalars: [0.25]))
    }

    func testMeanAbsoluteFrameDifferenceMatchesTheUnfusedOps() throws {
        for (clips, count, frameShape) in [(2, 8, [24, 24, 16]), (3, 2, [5, 7]), (1, 5, [40, 40, 8])] {
            let y = try frames(clips: clips, frames: count, frameShape: frameShape)
            let perFrame = frameShape.reduce(1, *)
            let tape = GradientTape()
            let yw = tape.watch(y)
            let (fused, reference) = try tape.record { () throws -> ((mean: Tensor, nonZero: Int, count: Int), Tensor) in
                let fused = try DeltaKernels.meanAbsoluteFrameDifference(yw, clips: clips, frames: count)
                let sequence = try yw.reshaped(to: [clips, count, perFrame])
                let later = try sequence.slice(begin: [0, 1, 0], size: [clips, count - 1, perFrame])
                let earlier = try sequence.slice(begin: [0, 0, 0], size: [clips, count - 1, perFrame])
                return (fused, try (later - earlier).abs().mean())
            }
            let label = "\(clips) clips × \(count) frames of \(frameShape)"
            XCTAssertEqual(fused.mean.scalar, reference.scalar, accuracy: 1e-6 * reference.scalar, label)
            let deltas = try y.reshaped(to: [clips, count, perFrame]).scalars
            var nonZero = 0
            for c in 0..<clips { for t in 1..<count { for i in 0..<perFrame {
                if deltas[(c * count + t) * perFrame + i] != deltas[(c * count + t - 1) * perFrame + i] { nonZero += 1 }
            } } }
            XCTAssertEqual(fused.count, clips * (count - 1) * perFrame, label)
            XCTAssertEqual(fused.nonZero, nonZero, label)
            XCTAssertGreaterThan(nonZero, 0, label)
            XCTAssertLessThan(nonZero, fused.count, label)
            let scale = Tensor(Float(3))
            let g = try tape.gradient(of: fused.mean, wrt: [yw], outputGradient: scale)[0]
            let expected = try tape.gradient(of: reference, wrt: [yw], outputGradient: scale)[0]
            let (a, b) = (try XCTUnwrap(g), try XCTUnwrap(expected))
            XCTAssertEqual(a.shape, b.shape, label)
            XCTAssertTrue(b.scalars.contains { $0 != 0 }, label)
            for (u, v) in zip(a.scalars, b.scalars) where Swift.abs(u - v) > 1e-6 * Swift.abs(v) {
                return XCTFail("\(label): gradient \(u), unfused \(v)")
            }
        }
    }

    func testStepGradientMatchesTheSingleThreadedKernel() throws {
        for (shape, stepShape) in [([16, 20, 20, 24], [24]), ([16, 12, 12, 8], [1]), ([16, 6, 6, 4], [6, 6, 4])] {
            let x = seeded(shape, seed: 7, in: -3...3)
            let q = seeded(stepShape, seed: 8, in: 0.05...0.5)
            let g = seeded(shape, seed: 9, in: -1...1)
            for estimator in [Tensor.StepGradient.lsq, .paper] {
                let fused = try DeltaKernels.stepGradient(x, step: q, outputGradient: g, estimator: estimator)
                let reference = try Tensor.quantizeStepGradient(x, step: q, outputGradient: g, estimator: estimator)
                XCTAssertEqual(fused.shape, reference.shape)
                for (a, b) in zip(fused.scalars, reference.scalars) {
                    XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(1, Swift.abs(b)), "\(shape) step \(stepShape) \(estimator)")
                }
            }
        }
    }
}
