import XCTest
import Tensor
import Layers
@testable import Delta

/// `calibrateThresholds` on a model whose only delta layer sits on the input,
/// so the statistics are those of the clips themselves (hand-derived below).
final class CalibrationTests: XCTestCase {
    /// Input [2 channels] → delta → Dense(1): frames as batch with clips of 3 frames, or
    /// (clipLength nil) an explicit time axis of 3 frames through TimeDistributed.
    private func model(clipLength: Int?) throws -> Model {
        let x = Input(shape: clipLength == nil ? [3, 2] : [2], name: "x")
        let out = clipLength == nil ? try TimeDistributed(try Dense(units: 1, name: "out"), name: "td")(x) : try Dense(units: 1, name: "out")(x)
        let dense = try Model(inputs: [x], outputs: [out], name: "m")
        var options = DeltaizeOptions()
        if let clipLength { options.clipLength = clipLength }
        options.thresholdInit = 0.5
        return try deltaize(dense, options: options).model
    }

    private func threshold(_ model: Model) throws -> [Float] {
        try XCTUnwrap(model.executionOrder.compactMap { $0.layer as? DeltaActivation }.first).threshold.value.scalars
    }

    /// Two clips of 3 frames, channels (a, b):
    ///   clip 1: (1, -2) (3, -2) (2, 0)      clip 2: (0, 4) (-1, 4) (-1, 1)
    /// mean |activation|: a (1+3+2+0+1+1)/6 = 4/3, b (2+2+0+4+4+1)/6 = 13/6
    /// mean |change| within clips: a (2+1+1+0)/4 = 1, b (0+2+0+3)/4 = 5/4
    private let frames: [[Float]] = [[1, -2], [3, -2], [2, 0], [0, 4], [-1, 4], [-1, 1]]

    private func clips() throws -> ClipSet {
        try ClipSet(clips: [0, 3].map { Tensor(shape: [3, 2], scalars: Array(frames[$0..<($0 + 3)].joined())) })
    }

    func testActivationStatistic() throws {
        let m = try model(clipLength: 3)
        try calibrateThresholds(m, on: try clips(), scale: 0.3)
        let t = try threshold(m)
        XCTAssertEqual(t[0], Float(0.3 * 4.0 / 3), accuracy: 1e-6)
        XCTAssertEqual(t[1], Float(0.3 * 13.0 / 6), accuracy: 1e-6)
    }

    func testChangeStatisticFramesAsBatch() throws {
        let m = try model(clipLength: 3)
        // One clip per batch and two per batch give the same figures: changes never cross clips.
        for perBatch in [1, 2] {
            try calibrateThresholds(m, on: try clips(), scale: 2, statistic: .changes, clipsPerBatch: perBatch)
            let t = try threshold(m)
            XCTAssertEqual(t[0], 2 * 1, accuracy: 1e-6)
            XCTAssertEqual(t[1], 2 * 1.25, accuracy: 1e-6)
        }
    }

    func testChangeStatisticExplicitTime() throws {
        let m = try model(clipLength: nil)
        try calibrateThresholds(m, on: try clips(), scale: 2, statistic: .changes, clipsPerBatch: 2)
        let t = try threshold(m)
        XCTAssertEqual(t[0], 2 * 1, accuracy: 1e-6)
        XCTAssertEqual(t[1], 2 * 1.25, accuracy: 1e-6)
    }

    func testZeroStatisticKeepsThreshold() throws {
        let m = try model(clipLength: 3)
        let still = try ClipSet(clips: [Tensor(shape: [3, 2], scalars: [1, 0, 1, 0, 1, 0])])
        try calibrateThresholds(m, on: still, scale: 2, statistic: .changes)
        XCTAssertEqual(try threshold(m), [0.5, 0.5])
    }

    func testBadScaleThrows() throws {
        XCTAssertThrowsError(try calibrateThresholds(try model(clipLength: 3), on: try clips(), scale: 0))
    }
}
