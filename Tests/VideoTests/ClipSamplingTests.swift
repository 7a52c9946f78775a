import Foundation
import XCTest
@testable import Video

final class ClipSamplingTests: XCTestCase {
    /// videos/walk/a.avi (10 frames), videos/walk/b.mp4, videos/run/c.avi (3 frames) and a text file.
    private static var media: TestMedia!

    override class func setUp() {
        super.setUp()
        media = try! TestMedia()
        try! media.video("videos/walk/a.avi", source: "testsrc=size=32x24:rate=10", seconds: 1)
        try! media.video("videos/walk/b.mp4", source: "mandelbrot=size=32x24:rate=10", seconds: 0.5,
                         codec: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        try! media.video("videos/run/c.avi", source: "life=size=32x24:rate=10", seconds: 0.3)
        try! media.write("not a video", to: "videos/run/notes.txt")
    }

    override class func tearDown() {
        media = nil
        super.tearDown()
    }

    /// A clip whose every sample in frame t is t.
    private func countingClip(frames: Int, size: Int = 2) throws -> VideoClip {
        try VideoClip(frameCount: frames, height: size, width: size,
                  pixels: (0..<frames).flatMap { [UInt8](repeating: UInt8($0), count: size * size * 3) })
    }

    func testSlidingWindows() throws {
        XCTAssertEqual(try ClipWindows.sliding(frameCount: 10, length: 4, stride: 3),
                       [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
        XCTAssertEqual(try ClipWindows.sliding(frameCount: 10, length: 4, stride: 3, frameStep: 2),
                       [[0, 2, 4, 6], [3, 5, 7, 9]])
        XCTAssertEqual(try ClipWindows.sliding(frameCount: 3, length: 4, stride: 1), [])
        let windows = try countingClip(frames: 7).slidingWindows(length: 3, stride: 2)
        XCTAssertEqual(windows.map { $0.pixels[0] }, [0, 2, 4])
        XCTAssertEqual(windows[1].frameCount, 3)
    }

    func testRandomWindowsStayInsideAndPadShortVideos() throws {
        var random = SeededRandom(seed: 1)
        var starts = Set<Int>()
        for _ in 0..<200 {
            let window = try ClipWindows.random(frameCount: 12, length: 4, frameStep: 2, using: &random)
            XCTAssertEqual(window.count, 4)
            XCTAssertTrue(window.allSatisfy { (0..<12).contains($0) })
            XCTAssertEqual(zip(window, window.dropFirst()).map { $1 - $0 }, [2, 2, 2])
            starts.insert(window[0])
        }
        XCTAssertEqual(starts, Set(0...5), "every start that fits is drawn")
        XCTAssertEqual(try ClipWindows.random(frameCount: 2, length: 4, using: &random), [0, 1, 1, 1])
    }

    func testEvenlySpacedPlacement() {
        let sampling = ClipSampling(length: 4, placement: .evenlySpaced(clipsPerVideo: 3))
        var random = SeededRandom(seed: 0)
        XCTAssertEqual((0..<3).map { sampling.start(frameCount: 24, window: $0, random: &random) }, [0, 10, 20])
        let centre = ClipSampling(length: 4, placement: .evenlySpaced(clipsPerVideo: 1))
        XCTAssertEqual(centre.start(frameCount: 24, window: 0, random: &random), 10)
    }

    func testBatchLayoutsAndScaling() throws {
        let clips = [try countingClip(frames: 3), try countingClip(frames: 3).reversed]
        let timeAxis = try ClipBatch(clips: clips, labels: [4, 1], layout: .timeAxis, scaling: .raw)
        XCTAssertEqual(timeAxis.clips.shape, [2, 3, 2, 2, 3])
        XCTAssertEqual(timeAxis.labels, [4, 1])
        XCTAssertEqual(timeAxis.labelTensor.scalars, [4, 1])
        let framesAsBatch = try ClipBatch(clips: clips, labels: [4, 1], layout: .framesAsBatch, scaling: .unit)
        XCTAssertEqual(framesAsBatch.clips.shape, [6, 2, 2, 3])
        XCTAssertEqual(framesAsBatch.clipLength, 3)
        XCTAssertEqual(stride(from: 0, to: 72, by: 12).map { framesAsBatch.clips.scalars[$0] },
                       [0, 1, 2, 2, 1, 0].map { Float($0) * (1 / 255) })
        let symmetric = try VideoClip(frameCount: 1, height: 1, width: 1, pixels: [0, 255, 51]).tensor(scaling: .symmetric)
        XCTAssertEqual(symmetric.shape, [1, 1, 1, 3])
        XCTAssertEqual(symmetric.scalars[0], -1)
        XCTAssertEqual(symmetric.scalars[1], 1)
        XCTAssertEqual(symmetric.scalars[2], -0.6, accuracy: 1e-6)

        assertVideoError(try ClipBatch(clips: [clips[0], countingClip(frames: 2)], labels: [0, 0], layout: .timeAxis),
                         mentions: "[2, 2, 2, 3]") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
        assertVideoError(try ClipBatch(clips: clips, labels: [0], layout: .timeAxis), mentions: "1 labels for 2") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }

    func testSlidingClipsFromAReaderMatchTheWholeVideo() throws {
        let avi = Self.media.url("videos/walk/a.avi")
        let info = try VideoInfo.probe(.file(avi))
        let options = VideoReadOptions(size: (16, 12))
        let whole = try VideoReader.readClip(.file(avi), options: options, info: info)
        let sliding = try SlidingClips(reader: try VideoReader(.file(avi), options: options, info: info),
                                   length: 3, stride: 3, frameStep: 2)
        let clips = Array(sliding)
        XCTAssertNil(sliding.failure)
        XCTAssertEqual(clips, try whole.slidingWindows(length: 3, stride: 3, frameStep: 2))
        XCTAssertEqual(clips.count, 2)
    }

    func testVideoFolderDataset() throws {
        let media = Self.media!
        let sampling = ClipSampling(length: 4, placement: .evenlySpaced(clipsPerVideo: 2))
        let dataset = try VideoClipDataset(contentsOf: media.url("videos"), sampling: sampling,
                                           readOptions: VideoReadOptions(size: (8, 8)))
        XCTAssertEqual(dataset.classNames, ["run", "walk"])
        XCTAssertEqual(dataset.entries.map(\.label), [0, 1, 1])
        XCTAssertEqual(dataset.count, 6)
        let full = try VideoReader.readClip(.file(media.url("videos/walk/a.avi")), options: VideoReadOptions(size: (8, 8)))
        XCTAssertEqual(try dataset.clip(at: 2, seed: 0).clip, try full.frames([0, 1, 2, 3]))
        XCTAssertEqual(try dataset.clip(at: 3, seed: 0).clip, try full.frames([6, 7, 8, 9]))
        // Three frames of video for a four-frame clip: the last frame repeats.
        let short = try dataset.clip(at: 0, seed: 0)
        XCTAssertEqual(short.label, 0)
        XCTAssertEqual(try short.clip.frame(3), try short.clip.frame(2))

        let single = try VideoClipDataset(contentsOf: media.url("videos/walk/a.avi"), sampling: ClipSampling(length: 2))
        XCTAssertEqual(single.count, 1)
        XCTAssertEqual(single.classNames, ["a.avi"])
    }
}
