import Foundation
import XCTest
@testable import Video

final class FrameChangeStatisticsTests: XCTestCase {
    func testCountsAbsoluteChanges() throws {
        // Frame 1 -> 2 changes the 12 samples by 0, 1, 1, 3, 5, 9, 10, 20, 40, 70, 100, 255.
        let first: [UInt8] = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 100, 0]
        let second: [UInt8] = [10, 11, 9, 13, 5, 19, 20, 30, 50, 80, 0, 255]
        let clip = try VideoClip(frameCount: 2, height: 2, width: 2, pixels: first + second)
        let statistics = FrameChangeStatistics(clip)
        XCTAssertEqual(statistics.count, 12)
        XCTAssertEqual(statistics.meanChange, Double(0 + 1 + 1 + 3 + 5 + 9 + 10 + 20 + 40 + 70 + 100 + 255) / 12)
        XCTAssertEqual(statistics.fraction(below: 2), 3.0 / 12)
        XCTAssertEqual(statistics.fraction(below: 8), 5.0 / 12)
        XCTAssertEqual(statistics.fraction(above: 32), 4.0 / 12)
        XCTAssertEqual(statistics.fraction(above: 64), 3.0 / 12)
        XCTAssertEqual(statistics.percentile(0.5), 9)
        XCTAssertEqual(statistics.percentile(1), 255)
        XCTAssertEqual(statistics.tableRow("t"), "| t | 42.83 | 25.0% | 41.7% | 33.3% | 25.0% | 9 | 100 | 255 |")

        var merged = statistics
        merged.merge(FrameChangeStatistics(clip.reversed))
        XCTAssertEqual(merged.count, 24)
        XCTAssertEqual(merged.meanChange, statistics.meanChange)
        XCTAssertEqual(FrameChangeStatistics(try clip.frames([0])).count, 0)
    }
}

/// Prints the frame-change table of the synthetic set next to FFmpeg-made
/// footage. Runs only with KERAS_DELTA_VIDEO_STATS=1 (tools/measure_video_stats.sh).
final class FrameChangeReportTests: XCTestCase {
    func testPrintFrameChangeReport() throws {
        guard ProcessInfo.processInfo.environment["KERAS_DELTA_VIDEO_STATS"] == "1" else {
            throw XCTSkip("set KERAS_DELTA_VIDEO_STATS=1 to measure (tools/measure_video_stats.sh)")
        }
        let media = try TestMedia()
        let size = 64
        var rows: [String] = []
        for mode in SyntheticActionSet.Mode.allCases {
            let set = try SyntheticActionSet(.init(mode: mode, classCount: 10, clipCount: 100, frameCount: 16,
                                                   size: size, seed: 1))
            var statistics = FrameChangeStatistics()
            for item in set.makeClips(Array(0..<set.count)) { statistics.add(item.clip) }
            rows.append(statistics.tableRow("synthetic, \(mode) mode, \(size)×\(size) (100 clips × 16 frames)"))
        }
        // 320x240 at 25 frames/s, 8 s each, like UCF101's videos; x264 at CRF 23 or MPEG-4 part 2 (as UCF101's xvid).
        let footage: [(name: String, source: String, codec: [String])] = [
            ("mandelbrot zoom, x264 CRF 23", "mandelbrot=size=320x240:rate=25", ["-c:v", "libx264", "-crf", "23"]),
            ("mandelbrot zoom + sensor noise, MPEG-4 q 4", "mandelbrot=size=320x240:rate=25,noise=alls=6:allf=t",
             ["-c:v", "mpeg4", "-q:v", "4"]),
            ("testsrc2, x264 CRF 23", "testsrc2=size=320x240:rate=25", ["-c:v", "libx264", "-crf", "23"]),
            ("life, x264 CRF 23", "life=size=320x240:rate=25:seed=1:mold=10:ratio=0.1:death_color=#202020:life_color=#c0c0c0",
             ["-c:v", "libx264", "-crf", "23"]),
        ]
        for (index, clip) in footage.enumerated() {
            let file = try media.video("real\(index).\(clip.codec[1] == "libx264" ? "mp4" : "avi")", source: clip.source,
                                       seconds: 8, codec: clip.codec + ["-pix_fmt", "yuv420p"])
            for options in [VideoReadOptions(size: (size, size), resize: .cover, interpolation: .area), VideoReadOptions()] {
                let decoded = try VideoReader.readClip(.file(file), options: options)
                let label = options.size == nil ? "320×240" : "\(size)×\(size)"
                rows.append(FrameChangeStatistics(decoded).tableRow("\(clip.name), \(label)"))
            }
        }
        print("\n" + FrameChangeStatistics.tableHeader + "\n" + rows.joined(separator: "\n") + "\n")
    }
}
