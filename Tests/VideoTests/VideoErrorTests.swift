import Foundation
import XCTest
@testable import Video

/// Each failure gives a typed error whose one-line message names the file.
final class VideoErrorTests: XCTestCase {
    private static var media: TestMedia!
    private static var avi: URL!

    override class func setUp() {
        super.setUp()
        media = try! TestMedia()
        avi = try! media.video("ok.avi", seconds: 0.3)
    }

    override class func tearDown() {
        media = nil
        super.tearDown()
    }

    func testMissingFFmpeg() throws {
        try withEnvironment("KERAS_DELTA_FFMPEG", "/nonexistent/bin/ffmpeg") {
            assertVideoError(try VideoReader(.file(Self.avi)), mentions: Self.avi.path) {
                if case .toolNotFound("ffmpeg", _, let detail) = $0 { return detail.contains("/nonexistent/bin/ffmpeg") }
                return false
            }
            assertVideoError(try VideoInfo.probe(.file(Self.avi)), mentions: Self.avi.path) {
                if case .toolNotFound = $0 { return true } else { return false }
            }
        }
        try withEnvironment("PATH", "/nonexistent") {
            assertVideoError(try VideoReader(.file(Self.avi)), mentions: "not on PATH") {
                if case .toolNotFound = $0 { return true } else { return false }
            }
        }
    }

    func testFFmpegOverrideIsUsed() throws {
        try withEnvironment("KERAS_DELTA_FFMPEG", "/usr/bin/ffmpeg") {
            XCTAssertEqual(try VideoReader.readClip(.file(Self.avi)).frameCount, 3)
        }
    }

    func testMissingFile() {
        let missing = Self.media.url("absent.avi")
        assertVideoError(try VideoReader(.file(missing)), mentions: missing.path) {
            if case .fileNotFound = $0 { return true } else { return false }
        }
        let folder = Self.media.url("no-frames")
        assertVideoError(try VideoReader(.imageSequence(folder, frameRate: 25)), mentions: folder.path) {
            if case .fileNotFound = $0 { return true } else { return false }
        }
    }

    func testTextFileIsNotAVideo() throws {
        let text = try Self.media.write("just some words\n", to: "notes.avi")
        assertVideoError(try VideoReader(.file(text)), mentions: text.path) {
            if case .notMedia = $0 { return true } else { return false }
        }
    }

    func testAudioOnlyFileHasNoVideoStream() throws {
        let wav = Self.media.url("tone.wav")
        try TestMedia.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2", wav.path])
        assertVideoError(try VideoReader(.file(wav)), mentions: wav.path) {
            if case .noVideoStream = $0 { return true } else { return false }
        }
    }

    func testFolderWithoutFrames() throws {
        let folder = Self.media.url("empty-frames")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.media.write("x", to: "empty-frames/readme.txt")
        assertVideoError(try VideoReader(.imageSequence(folder, frameRate: 25)), mentions: folder.path) {
            if case .badLayout = $0 { return true } else { return false }
        }
        assertVideoError(try VideoReader(.file(folder)), mentions: folder.path) {
            if case .unreadable = $0 { return true } else { return false }
        }
    }

    func testBadOptions() {
        assertVideoError(try VideoReader(.file(Self.avi), options: VideoReadOptions(size: (0, 10))), mentions: "0x10") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
        assertVideoError(try VideoReader(.file(Self.avi), options: VideoReadOptions(frameRate: -1)), mentions: "-1") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }
}
