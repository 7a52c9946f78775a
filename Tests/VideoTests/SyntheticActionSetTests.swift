import Foundation
import XCTest
@testable import Video

final class SyntheticActionSetTests: XCTestCase {
    private func makeSet(_ mode: SyntheticActionSet.Mode = .motion, classes: Int = 10, clips: Int = 40,
                         frames: Int = 6, size: Int = 32, seed: UInt64 = 11) throws -> SyntheticActionSet {
        try SyntheticActionSet(.init(mode: mode, classCount: classes, clipCount: clips, frameCount: frames,
                                     size: size, seed: seed))
    }

    func testShapesLabelsAndClassBalance() throws {
        let set = try makeSet(clips: 35)
        XCTAssertEqual(set.count, 35)
        XCTAssertEqual(set.classNames, ["shift_left", "shift_right", "shift_up", "shift_down", "rotate_cw",
                                        "rotate_ccw", "grow", "shrink", "flicker", "still"])
        var perClass = [Int](repeating: 0, count: 10)
        for i in 0..<set.count {
            let item = set.clip(at: i)
            XCTAssertEqual(item.clip.shape, [6, 32, 32, 3])
            XCTAssertTrue((0..<10).contains(item.label))
            XCTAssertEqual(set.scene(at: i).motion.rawValue, item.label)
            perClass[item.label] += 1
        }
        XCTAssertEqual(perClass.max()! - perClass.min()!, 1, "classes are balanced: \(perClass)")

        let wide = try SyntheticActionSet(.init(classCount: 4, clipCount: 2, frameCount: 3, height: 24, width: 40))
        XCTAssertEqual(wide.clip(at: 1).clip.shape, [3, 24, 40, 3])
        XCTAssertEqual(wide.classNames.count, 4)
    }

    func testDeterministicBySeedInAnyOrder() throws {
        let a = try makeSet(seed: 3)
        let b = try makeSet(seed: 3)
        let c = try makeSet(seed: 4)
        let later = b.clip(at: 17)
        XCTAssertEqual(a.clip(at: 17), later, "same seed, same clip, whatever was generated before")
        XCTAssertEqual(a.makeClips([17, 2]), [later, b.clip(at: 2)])
        XCTAssertNotEqual(a.clip(at: 17).clip, c.clip(at: 17).clip)
        XCTAssertNotEqual(a.clip(at: 17).clip, a.clip(at: 27).clip, "same class, different clip")
    }

    /// A pin, not a reference: the FNV-1a hash of three clips as this package
    /// itself generated them when the generator was written (no outside tool
    /// produced it). It fails when the generator's output changes, on this or
    /// another machine; update the pin only for an intended change.
    func testOutputMatchesItsOwnEarlierPinnedHash() throws {
        let set = try makeSet(clips: 10, frames: 4, size: 24, seed: 2024)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in [0, 5, 9] {
            for byte in set.clip(at: i).clip.pixels {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
        }
        XCTAssertEqual(hash, SyntheticActionSetTests.goldenHash, String(format: "%016llx", hash))
    }

    private static let goldenHash: UInt64 = 0x84E5_C1E2_9885_DDD6

    func testStillObjectStaysWhileShiftMoves() throws {
        let set = try makeSet(clips: 20, frames: 8, size: 48)
        for index in [9, 19] {  // still
            let scene = set.scene(at: index)
            XCTAssertEqual(scene.motion, .still)
            XCTAssertEqual(scene.objectState(atFrame: 0), scene.objectState(atFrame: 7))
            XCTAssertEqual(estimatedObjectShift(set.clip(at: index).clip, scene: scene).x, 0, accuracy: 0.3)
        }
        for index in [0, 10] {  // shift left
            let scene = set.scene(at: index)
            XCTAssertEqual(scene.motion, .shiftLeft)
            let path = scene.objectState(atFrame: 7).x - scene.objectState(atFrame: 0).x
            XCTAssertLessThan(path, -5)
            let measured = estimatedObjectShift(set.clip(at: index).clip, scene: scene)
            XCTAssertEqual(measured.x, path / 7, accuracy: 0.6, "pixels move as the scene says")
            XCTAssertEqual(measured.y, 0, accuracy: 0.3)
        }
    }

    func testPlayedBackwardsShiftLeftLooksLikeShiftRight() throws {
        let set = try makeSet(clips: 20, frames: 8, size: 48)
        let left = set.scene(at: 0), right = set.scene(at: 1)
        XCTAssertEqual(left.motion.reversed, right.motion)
        let forward = estimatedObjectShift(set.clip(at: 0).clip, scene: left)
        let backward = estimatedObjectShift(set.clip(at: 0).clip.reversed, scene: left, reversed: true)
        let realRight = estimatedObjectShift(set.clip(at: 1).clip, scene: right)
        XCTAssertLessThan(forward.x, -0.5)
        XCTAssertGreaterThan(backward.x, 0.5, "backwards, the object moves right")
        XCTAssertGreaterThan(realRight.x, 0.5)
        // The same frames in the other order: only temporal order tells the classes apart.
        XCTAssertEqual(Set(try framesOf(set.clip(at: 0).clip)), Set(try framesOf(set.clip(at: 0).clip.reversed)))
        // Paths are symmetric about the middle, so frame positions share one distribution.
        let middle = left.objectState(atFrame: 0).x + left.objectState(atFrame: 7).x
        XCTAssertEqual(middle / 2, (left.objectState(atFrame: 3).x + left.objectState(atFrame: 4).x) / 2, accuracy: 1e-9)
    }

    func testEveryMotionChangesAsNamed() throws {
        let set = try makeSet(clips: 10, frames: 5, size: 32)
        for index in 0..<10 {
            let scene = set.scene(at: index)
            let first = scene.objectState(atFrame: 0), last = scene.objectState(atFrame: 4)
            switch scene.motion {
            case .shiftLeft: XCTAssertLessThan(last.x, first.x)
            case .shiftRight: XCTAssertGreaterThan(last.x, first.x)
            case .shiftUp: XCTAssertLessThan(last.y, first.y)
            case .shiftDown: XCTAssertGreaterThan(last.y, first.y)
            case .rotateClockwise: XCTAssertGreaterThan(last.angle, first.angle)
            case .rotateCounterclockwise: XCTAssertLessThan(last.angle, first.angle)
            case .grow: XCTAssertGreaterThan(last.radius, first.radius * 1.1)
            case .shrink: XCTAssertLessThan(last.radius, first.radius / 1.1)
            case .flicker:
                let levels = Set((0..<5).map { scene.objectState(atFrame: $0).brightness })
                XCTAssertEqual(levels.count, 2)
            case .still: XCTAssertEqual(first, last)
            }
            if scene.motion != .flicker { XCTAssertEqual(first.brightness, 1) }
        }
    }

    func testAppearanceModeClassIsShapeAndTexture() throws {
        let set = try makeSet(.appearance, classes: 18, clips: 36, frames: 3, size: 32)
        XCTAssertEqual(set.classNames.count, 18)
        XCTAssertEqual(Set(set.classNames).count, 18)
        XCTAssertEqual(set.classNames.prefix(7), ["disc_stripes", "square_checker", "triangle_spots", "ring_stripes",
                                                  "cross_checker", "star_spots", "disc_checker"])
        var motions = Set<SyntheticMotion>()
        for index in 0..<set.count {
            let scene = set.scene(at: index)
            XCTAssertEqual("\(scene.shape)_\(scene.texture)", set.classNames[set.label(at: index)])
            motions.insert(scene.motion)
        }
        XCTAssertGreaterThan(motions.count, 5, "motion is random nuisance")
        XCTAssertEqual(try makeSet(.appearance, classes: 6, clips: 6, frames: 1).clip(at: 0).clip.frameCount, 1)
    }

    func testFrameChangesLookLikeFootage() throws {
        let set = try makeSet(clips: 20, frames: 6, size: 32)
        var statistics = FrameChangeStatistics()
        for item in set.makeClips(Array(0..<20)) { statistics.add(item.clip) }
        XCTAssertGreaterThan(statistics.fraction(below: 2), 0.2, "most samples change a little")
        XCTAssertGreaterThan(statistics.fraction(below: 8), 0.75)
        XCTAssertLessThan(statistics.fraction(below: 1), 0.5, "noise and drift: few samples are exactly still")
        XCTAssertGreaterThan(statistics.fraction(above: 32), 0.005, "a few samples change a lot")
        XCTAssertLessThan(statistics.fraction(above: 32), 0.15)
    }

    func testRejectsBadConfigurations() {
        let bad: [SyntheticActionSet.Configuration] = [
            .init(classCount: 11, size: 32), .init(classCount: 1, size: 32), .init(frameCount: 1, size: 32),
            .init(size: 8), .init(clipCount: -1, size: 32), .init(mode: .appearance, classCount: 19, size: 32),
        ]
        for configuration in bad {
            assertVideoError(try SyntheticActionSet(configuration), mentions: "invalid argument") {
                if case .invalidArgument = $0 { return true } else { return false }
            }
        }
    }

    func testPortableMathMatchesTheSystemLibrary() {
        for x in stride(from: -20.0, through: 20.0, by: 0.37) {
            let (s, c) = PortableMath.sinCos(x)
            XCTAssertEqual(s, Foundation.sin(x), accuracy: 1e-14)
            XCTAssertEqual(c, Foundation.cos(x), accuracy: 1e-14)
        }
        for (base, exponent) in [(1.05, 3.5), (2.2, 1.0 / 7), (1 / 1.08, -2.5), (3.0, 0.0)] {
            XCTAssertEqual(PortableMath.power(base, exponent), Foundation.pow(base, exponent), accuracy: 1e-12)
        }
    }

    // MARK: Helpers

    /// The object's mean displacement per frame, in pixels, found by matching a
    /// patch around it in each frame against the next frame (±4 px search).
    private func estimatedObjectShift(_ clip: VideoClip, scene: SyntheticScene,
                                      reversed: Bool = false) -> (x: Double, y: Double) {
        var total = (x: 0.0, y: 0.0)
        let half = 5, search = 4
        for t in 0..<(clip.frameCount - 1) {
            let state = scene.objectState(atFrame: reversed ? clip.frameCount - 1 - t : t)
            let cx = Int(state.x.rounded()), cy = Int(state.y.rounded())
            var best = (error: Int.max, dx: 0, dy: 0)
            for dy in -search...search {
                for dx in -search...search {
                    var error = 0
                    for y in (cy - half)...(cy + half) {
                        for x in (cx - half)...(cx + half) {
                            let ya = min(max(y, 0), clip.height - 1), xa = min(max(x, 0), clip.width - 1)
                            let yb = min(max(y + dy, 0), clip.height - 1), xb = min(max(x + dx, 0), clip.width - 1)
                            for c in 0..<3 {
                                let a = Int(clip.pixels[((t * clip.height + ya) * clip.width + xa) * 3 + c])
                                let b = Int(clip.pixels[(((t + 1) * clip.height + yb) * clip.width + xb) * 3 + c])
                                error += abs(a - b)
                            }
                        }
                    }
                    if error < best.error || (error == best.error && abs(dx) + abs(dy) < abs(best.dx) + abs(best.dy)) {
                        best = (error, dx, dy)
                    }
                }
            }
            total.x += Double(best.dx)
            total.y += Double(best.dy)
        }
        let steps = Double(clip.frameCount - 1)
        return (total.x / steps, total.y / steps)
    }

    private func framesOf(_ clip: VideoClip) throws -> [[UInt8]] {
        try (0..<clip.frameCount).map { try clip.frame($0).pixels }
    }
}
