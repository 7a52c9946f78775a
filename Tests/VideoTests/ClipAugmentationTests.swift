import XCTest
@testable import Video

final class ClipAugmentationTests: XCTestCase {
    private let everything = ClipAugmentation(outputSize: (20, 16), zoom: 1.05...1.3, translation: 0.1, rotation: 15,
                                              horizontalFlip: true, brightness: 20, contrast: 0.8...1.2)

    private func sampleClip(frames: Int = 4) throws -> VideoClip {
        try SyntheticActionSet(.init(classCount: 10, clipCount: 1, frameCount: frames, size: 24, seed: 5)).clip(at: 0).clip
    }

    func testIdenticalFramesStayIdentical() throws {
        let still = try sampleClip().frames([1, 1, 1, 1, 1])
        for seed in 0..<5 as Range<UInt64> {
            let augmented = everything.apply(to: still, seed: seed)
            XCTAssertEqual(augmented.shape, [5, 16, 20, 3])
            for t in 1..<5 { XCTAssertEqual(try augmented.frame(t), try augmented.frame(0), "seed \(seed), frame \(t)") }
        }
    }

    func testEveryFrameGetsTheSameTransform() throws {
        let clip = try sampleClip()
        var random = SeededRandom(seed: 9)
        let parameters = everything.draw(using: &random)
        let augmented = everything.apply(to: clip, parameters: parameters)
        for t in 0..<clip.frameCount {
            XCTAssertEqual(try augmented.frame(t), try everything.apply(to: try clip.frames([t]), parameters: parameters).frame(0))
        }
    }

    func testFlipTwiceIsIdentityAndIdentityIsExact() throws {
        let clip = try sampleClip()
        let flip = ClipAugmentation.Parameters(flip: true)
        let once = ClipAugmentation.none.apply(to: clip, parameters: flip)
        XCTAssertNotEqual(once, clip)
        XCTAssertEqual(try once.frame(0).pixels[0..<3], try clip.frame(0).pixels[(23 * 3)..<(24 * 3)], "mirrored row")
        XCTAssertEqual(ClipAugmentation.none.apply(to: once, parameters: flip), clip)
        XCTAssertEqual(ClipAugmentation.none.apply(to: clip, seed: 1), clip)
    }

    func testDeterministicBySeed() throws {
        let clip = try sampleClip()
        XCTAssertEqual(everything.apply(to: clip, seed: 3), everything.apply(to: clip, seed: 3))
        XCTAssertNotEqual(everything.apply(to: clip, seed: 3), everything.apply(to: clip, seed: 4))
        var a = SeededRandom(seed: 8), b = SeededRandom(seed: 8)
        XCTAssertEqual(everything.draw(using: &a), everything.draw(using: &b))
    }

    func testCropShiftsByWholePixels() throws {
        let clip = try sampleClip()
        let crop = ClipAugmentation(outputSize: (16, 16))
        // Room is (24 - 16) / 2 = 4 px each way: shift +1 ends at the right edge, -1 at the top.
        let cut = crop.apply(to: clip, parameters: .init(shiftX: 1, shiftY: -1))
        XCTAssertEqual(cut.shape, [4, 16, 16, 3])
        for t in 0..<4 {
            for y in 0..<16 {
                for x in 0..<16 {
                    for c in 0..<3 {
                        XCTAssertEqual(cut.pixels[((t * 16 + y) * 16 + x) * 3 + c],
                                       clip.pixels[((t * 24 + y) * 24 + x + 8) * 3 + c])
                    }
                }
            }
        }
    }

    func testBrightnessAndContrast() throws {
        let clip = try VideoClip(frameCount: 1, height: 1, width: 3, pixels: [0, 100, 128, 200, 250, 255, 10, 20, 30])
        let brighter = ClipAugmentation.none.apply(to: clip, parameters: .init(brightness: 10))
        XCTAssertEqual(brighter.pixels, [10, 110, 138, 210, 255, 255, 20, 30, 40])
        let flatter = ClipAugmentation.none.apply(to: clip, parameters: .init(contrast: 0.5))
        XCTAssertEqual(flatter.pixels, [64, 114, 128, 164, 189, 192, 69, 74, 79])
    }

    func testRotationTurnsAboutTheCentre() throws {
        // A single bright pixel right of centre moves below centre under a 90° clockwise turn.
        var pixels = [UInt8](repeating: 0, count: 9 * 9 * 3)
        pixels[(4 * 9 + 7) * 3] = 255
        let clip = try VideoClip(frameCount: 1, height: 9, width: 9, pixels: pixels)
        let turned = ClipAugmentation.none.apply(to: clip, parameters: .init(rotation: 90))
        XCTAssertEqual(turned.pixels[(7 * 9 + 4) * 3], 255)
        XCTAssertEqual(turned.pixels.reduce(0) { $0 + Int($1) }, 255)
    }

    func testRejectsBadRanges() {
        assertVideoError(try ClipAugmentation(outputSize: (0, 4)).validate(), mentions: "0x4") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
        assertVideoError(try ClipAugmentation(rotation: -1).validate(), mentions: "rotation") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }
}
