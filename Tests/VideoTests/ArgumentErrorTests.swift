import XCTest
@testable import Video

/// A bad public argument throws `VideoError.invalidArgument` naming it.
final class ArgumentErrorTests: XCTestCase {
    private func assertInvalidArgument<T>(_ body: @autoclosure () throws -> T, naming argument: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case VideoError.invalidArgument(let message) = error else {
                return XCTFail("expected invalidArgument, got \(error)", line: line)
            }
            XCTAssertTrue(message.contains(argument), "\(message) does not name \(argument)", line: line)
        }
    }

    func testVideoClipArguments() throws {
        assertInvalidArgument(try VideoClip(frameCount: -1, height: 2, width: 2, pixels: []), naming: "frameCount")
        assertInvalidArgument(try VideoClip(frameCount: 1, height: 2, width: 2, pixels: [0]), naming: "pixels")
        let clip = try VideoClip(frameCount: 2, height: 1, width: 1, pixels: [1, 2, 3, 4, 5, 6])
        assertInvalidArgument(try clip.frame(2), naming: "frame index")
        assertInvalidArgument(try clip.frames([0, -1]), naming: "frame index")
        XCTAssertEqual(clip.reversed.pixels, [4, 5, 6, 1, 2, 3])
    }

    func testWindowArguments() {
        assertInvalidArgument(try ClipWindows.sliding(frameCount: 10, length: 0, stride: 1), naming: "length")
        var random = SeededRandom(seed: 1)
        assertInvalidArgument(try ClipWindows.random(frameCount: 0, length: 2, using: &random), naming: "frameCount")
    }
}
