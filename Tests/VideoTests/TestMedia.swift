import Foundation
import XCTest
@testable import Video

/// Generates small media files with the real `ffmpeg` into a per-test temporary folder.
final class TestMedia {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("VideoTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    /// The path of `name` inside the temporary folder.
    func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Runs `ffmpeg` with `arguments` (after `-y -v error -nostdin`) and fails the test on error.
    @discardableResult
    static func ffmpeg(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let ffmpeg = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        let result = try FFmpegTools.run(ffmpeg, ["-y", "-v", "error", "-nostdin"] + arguments)
        if result.status != 0 {
            XCTFail("ffmpeg \(arguments.joined(separator: " ")) failed: \(result.errors)", file: file, line: line)
        }
        return result.output
    }

    /// Encodes `seconds` of a lavfi `source` (e.g. `testsrc=size=64x48:rate=10`) to `name`.
    @discardableResult
    func video(_ name: String, source: String = "testsrc=size=64x48:rate=10", seconds: Double = 1,
               codec: [String] = ["-c:v", "mpeg4", "-q:v", "2"]) throws -> URL {
        let target = url(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.ffmpeg(["-f", "lavfi", "-i", source, "-t", String(seconds)] + codec + [target.path])
        return target
    }

    /// Writes `seconds` of a lavfi source as numbered images `frame_00001.<ext>` in folder `name`.
    @discardableResult
    func frameFolder(_ name: String, source: String = "testsrc=size=64x48:rate=10", seconds: Double = 1,
                     ext: String = "png") throws -> URL {
        let target = url(name)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Self.ffmpeg(["-f", "lavfi", "-i", source, "-t", String(seconds), "-start_number", "1",
                         target.appendingPathComponent("frame_%05d.\(ext)").path])
        return target
    }

    /// What FFmpeg itself decodes from `input` with `filter`, as raw RGB bytes.
    static func rawFrames(_ input: [String], filter: String?, before: [String] = []) throws -> [UInt8] {
        var arguments = before + input
        if let filter { arguments += ["-vf", filter] }
        arguments += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
        return [UInt8](try ffmpeg(arguments))
    }

    /// Writes `text` to `name` and returns its URL.
    @discardableResult
    func write(_ text: String, to name: String) throws -> URL {
        let target = url(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
        return target
    }
}

/// Runs `body` with the environment variable `name` set to `value`, then restores it.
func withEnvironment<T>(_ name: String, _ value: String?, _ body: () throws -> T) rethrows -> T {
    let previous = ProcessInfo.processInfo.environment[name]
    if let value { setenv(name, value, 1) } else { unsetenv(name) }
    defer {
        if let previous { setenv(name, previous, 1) } else { unsetenv(name) }
    }
    return try body()
}

/// Asserts that `body` throws a ``VideoError`` matching `matches` whose message contains `fragment`.
func assertVideoError<T>(_ body: @autoclosure () throws -> T, mentions fragment: String,
                         file: StaticString = #filePath, line: UInt = #line,
                         _ matches: (VideoError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a VideoError mentioning \(fragment)", file: file, line: line)
    } catch let error as VideoError {
        XCTAssertTrue(matches(error), "unexpected error case: \(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(fragment), "message \"\(error)\" does not name \(fragment)",
                      file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "message is not one line: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a VideoError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}
