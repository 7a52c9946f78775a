import Foundation
import XCTest
@testable import Video

final class VideoReaderTests: XCTestCase {
    /// Media shared by the tests of this class (each FFmpeg run costs ~0.1 s).
    private static var media: TestMedia!
    private static var avi: URL!
    private static var aviInfo: VideoInfo!

    override class func setUp() {
        super.setUp()
        media = try! TestMedia()
        avi = try! media.video("x.avi", seconds: 2)
        aviInfo = try! VideoInfo.probe(.file(avi))
    }

    override class func tearDown() {
        media = nil
        super.tearDown()
    }

    private var media: TestMedia { Self.media }

    /// Decodes `source` with the reader and with FFmpeg directly, and requires identical bytes.
    private func assertMatchesFFmpeg(_ source: VideoSource, options: VideoReadOptions, info: VideoInfo? = nil,
                                     filter: String?, before: [String] = [], input: [String],
                                     file: StaticString = #filePath, line: UInt = #line) throws -> VideoClip {
        let clip = try VideoReader.readClip(source, options: options, info: info)
        let expected = try TestMedia.rawFrames(input, filter: filter, before: before)
        XCTAssertGreaterThan(clip.frameCount, 0, file: file, line: line)
        XCTAssertEqual(clip.pixels.count, expected.count, "byte count", file: file, line: line)
        XCTAssertTrue(clip.pixels == expected, "pixels differ from FFmpeg's raw output", file: file, line: line)
        return clip
    }

    func testNativeSizeMatchesFFmpegRawOutputForMPEG4AVI() throws {
        let info = Self.aviInfo!
        XCTAssertEqual(info.width, 64)
        XCTAssertEqual(info.height, 48)
        XCTAssertEqual(info.frameRate, 10)
        XCTAssertEqual(info.frameCount, 20)
        XCTAssertEqual(info.duration, 2)
        let reader = try VideoReader(.file(Self.avi), info: info)
        let frames = Array(reader)
        XCTAssertNil(reader.failure)
        XCTAssertFalse(reader.isRunning)
        XCTAssertEqual(frames.count, 20)
        XCTAssertEqual(frames[0].width, 64)
        XCTAssertEqual(frames[0].height, 48)
        let expected = try TestMedia.rawFrames(["-i", Self.avi.path], filter: nil)
        XCTAssertTrue(frames.flatMap(\.pixels) == expected)
    }

    func testStretchResizeMatchesFFmpegForH264MP4() throws {
        let mp4 = try media.video("x.mp4", source: "testsrc2=size=96x64:rate=12", seconds: 1,
                                  codec: ["-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p"])
        let clip = try assertMatchesFFmpeg(.file(mp4), options: VideoReadOptions(size: (40, 30)),
                                           filter: "scale=40:30:flags=bilinear", input: ["-i", mp4.path])
        XCTAssertEqual(clip.shape, [12, 30, 40, 3])
    }

    func testCoverResizeCropsTheCentre() throws {
        let wide = try media.video("wide.avi", source: "testsrc=size=80x40:rate=10", seconds: 0.5)
        // 80x40 scaled to cover 24x24 is 48x24; the centre crop starts at x = 12.
        let clip = try assertMatchesFFmpeg(.file(wide), options: VideoReadOptions(size: (24, 24), resize: .cover,
                                                                                  interpolation: .bicubic),
                                           filter: "scale=48:24:flags=bicubic,crop=24:24:12:0",
                                           input: ["-i", wide.path])
        XCTAssertEqual(clip.shape, [5, 24, 24, 3])
        // A tall source is cropped vertically: 48x64 covers 24x24 at 24x32, crop from y = 4.
        let options = VideoReadOptions(size: (24, 24), resize: .cover)
        let graph = options.filterGraph(sourceWidth: 48, sourceHeight: 64).graph
        XCTAssertEqual(graph, "scale=24:32:flags=bilinear,format=rgb24,crop=24:24:0:4")
    }

    func testStartTimeSkipsTheFirstFrames() throws {
        let all = try VideoReader.readClip(.file(Self.avi), info: Self.aviInfo)
        let late = try assertMatchesFFmpeg(.file(Self.avi), options: VideoReadOptions(startTime: 0.5),
                                           info: Self.aviInfo, filter: nil, before: ["-ss", "0.5"],
                                           input: ["-i", Self.avi.path])
        XCTAssertEqual(all.frameCount, 20)
        XCTAssertEqual(late, try all.frames(Array(5..<20)))
    }

    func testFrameRateResamplesAndMaxFramesLimits() throws {
        let all = try VideoReader.readClip(.file(Self.avi), info: Self.aviInfo)
        let limited = try VideoReader.readClip(.file(Self.avi), options: VideoReadOptions(frameRate: 5, maxFrames: 3),
                                               info: Self.aviInfo)
        XCTAssertEqual(limited, try all.frames([0, 2, 4]))
        _ = try assertMatchesFFmpeg(.file(Self.avi), options: VideoReadOptions(size: (32, 24), frameRate: 5),
                                    info: Self.aviInfo, filter: "fps=5,scale=32:24:flags=bilinear",
                                    input: ["-i", Self.avi.path])
    }

    func testImageFolderMatchesFFmpeg() throws {
        let folder = try media.frameFolder("frames", ext: "png")
        let source = VideoSource.imageSequence(folder, frameRate: 10)
        let info = try VideoInfo.probe(source)
        XCTAssertEqual(info.frameCount, 10)
        XCTAssertEqual(info.frameRate, 10)
        XCTAssertEqual(info.width, 64)
        // Lossless PNG frames decode to exactly the lavfi source's pixels.
        let native = try VideoReader.readClip(source, info: info)
        let original = try TestMedia.rawFrames(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1"], filter: nil)
        XCTAssertTrue(native.pixels == original)
    }

    func testStoppingEarlyReapsTheProcess() throws {
        let reader = try busyReader()
        let pid = reader.processIdentifier
        XCTAssertNotNil(try reader.readFrame())
        XCTAssertNotNil(try reader.readFrame())
        XCTAssertTrue(reader.isRunning, "ffmpeg should still be writing")
        reader.close()
        XCTAssertFalse(reader.isRunning)
        XCTAssertEqual(kill(pid, 0), -1, "ffmpeg \(pid) still exists (running or zombie)")
        XCTAssertEqual(errno, ESRCH)
        XCTAssertNil(try reader.readFrame(), "a closed reader delivers nothing")
        reader.close()
    }

    func testReleasingAReaderReapsTheProcess() throws {
        var reader: VideoReader? = try busyReader()
        let pid = reader!.processIdentifier
        XCTAssertNotNil(reader!.next())
        reader = nil
        XCTAssertEqual(kill(pid, 0), -1, "ffmpeg \(pid) still exists after release")
    }

    /// A reader with far more output than a pipe holds (two seconds resampled to
    /// 1000 frames/s), so FFmpeg is blocked writing when the test stops reading.
    private func busyReader() throws -> VideoReader {
        try VideoReader(.file(Self.avi), options: VideoReadOptions(size: (32, 24), frameRate: 1000), info: Self.aviInfo)
    }
}
