import Foundation
import XCTest
@testable import Video

/// A miniature UCF101: 3 classes x 2 groups x 1 clip of tiny FFmpeg-made videos,
/// with classInd and all six split lists (CRLF line ends, as in the official files).
final class UCF101Tests: XCTestCase {
    private static var media: TestMedia!
    private static let classes = ["ApplyEyeMakeup", "Archery", "Basketball"]

    /// Split k's training groups; its test list holds the other videos.
    private static let trainGroups: [Int: [(String, Int)]] = [
        1: classes.map { ($0, 2) },
        2: classes.map { ($0, 1) },
        3: [("ApplyEyeMakeup", 1), ("Archery", 1), ("Archery", 2), ("Basketball", 1)],
    ]

    private static func video(_ className: String, group: Int) -> String {
        String(format: "%@/v_%@_g%02d_c01.avi", className, className, group)
    }

    override class func setUp() {
        super.setUp()
        media = try! TestMedia()
        // Videos under UCF101/UCF-101, lists beside it in UCF101/ucfTrainTestlist.
        for (index, className) in classes.enumerated() {
            for group in 1...2 {
                try! media.video("UCF101/UCF-101/" + video(className, group: group),
                                 source: ["testsrc", "mandelbrot", "life"][index] + "=size=40x30:rate=10", seconds: 0.8)
            }
        }
        try! writeLists(into: "UCF101/ucfTrainTestlist")
    }

    override class func tearDown() {
        media = nil
        super.tearDown()
    }

    private static func writeLists(into folder: String) throws {
        let crlf = "\r\n"
        try media.write(classes.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: crlf) + crlf,
                        to: folder + "/classInd.txt")
        for split in 1...3 {
            let train = trainGroups[split]!
            let test = classes.flatMap { className in (1...2).map { (className, $0) } }
                .filter { pair in !train.contains { $0 == pair } }
            try media.write(train.map { "\(video($0.0, group: $0.1)) \(classes.firstIndex(of: $0.0)! + 1)" }
                .joined(separator: crlf) + crlf, to: folder + "/trainlist0\(split).txt")
            try media.write(test.map { video($0.0, group: $0.1) }.joined(separator: crlf) + crlf,
                            to: folder + "/testlist0\(split).txt")
        }
    }

    private var root: URL { Self.media.url("UCF101/UCF-101") }

    func testParsesAllThreeSplits() throws {
        let ucf = try UCF101(root: root)
        XCTAssertEqual(ucf.classNames, Self.classes)
        XCTAssertEqual(ucf.listFolder.lastPathComponent, "ucfTrainTestlist")
        for split in 1...3 {
            let train = try ucf.items(split: split, subset: .train)
            let test = try ucf.items(split: split, subset: .test)
            XCTAssertEqual(train.map(\.listedPath), Self.trainGroups[split]!.map { Self.video($0.0, group: $0.1) },
                           "split \(split)")
            XCTAssertEqual(train.count + test.count, 6, "split \(split)")
            XCTAssertTrue(Set(train.map(\.listedPath)).isDisjoint(with: test.map(\.listedPath)))
            for item in train + test {
                XCTAssertEqual(item.label, Self.classes.firstIndex(of: String(item.listedPath.split(separator: "/")[0])))
                XCTAssertEqual(item.source, .file(root.appendingPathComponent(item.listedPath)))
            }
        }
        let split1Test = try ucf.items(split: 1, subset: .test)
        XCTAssertEqual(split1Test.map(\.label), [0, 1, 2], "test labels come from the class folder")
    }

    func testDatasetDecodesClipsWithLabels() throws {
        let ucf = try UCF101(root: root)
        let dataset = try ucf.dataset(split: 1, subset: .test, sampling: ClipSampling(length: 4, frameStep: 2),
                                      readOptions: VideoReadOptions(size: (16, 16), resize: .cover))
        XCTAssertEqual(dataset.count, 3)
        XCTAssertEqual(dataset.classNames, Self.classes)
        let item = try dataset.clip(at: 2, seed: 5)
        XCTAssertEqual(item.label, 2)
        XCTAssertEqual(item.clip.shape, [4, 16, 16, 3])
        XCTAssertEqual(try dataset.clip(at: 2, seed: 5), item, "same seed, same window")
    }

    func testOtherRootNameWithListsInside() throws {
        // Another name, the lists inside the root, class folders linked from the first tree.
        let other = Self.media.url("elsewhere/my videos")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        for className in Self.classes {
            try FileManager.default.createSymbolicLink(at: other.appendingPathComponent(className),
                                                       withDestinationURL: root.appendingPathComponent(className))
        }
        try FileManager.default.copyItem(at: Self.media.url("UCF101/ucfTrainTestlist"),
                                         to: other.appendingPathComponent("ucfTrainTestlist"))
        let ucf = try UCF101(root: other)
        XCTAssertEqual(ucf.listFolder, other.appendingPathComponent("ucfTrainTestlist"))
        let items = try ucf.items(split: 2, subset: .test)
        XCTAssertEqual(items.map(\.label), [0, 1, 2])
        XCTAssertEqual(items[0].source, .file(other.appendingPathComponent(Self.video("ApplyEyeMakeup", group: 2))))
    }

    func testFramesAsImagesLayout() throws {
        // ucf_frames/<Class>/<video>/frame_00001.jpg, lists in a folder of another name beside it.
        let frames = Self.media.url("frames/ucf_frames")
        let first = try Self.media.frameFolder("frames/ucf_frames/" + Self.video("ApplyEyeMakeup", group: 1)
            .replacingOccurrences(of: ".avi", with: ""), source: "testsrc=size=40x30:rate=10", seconds: 0.5, ext: "jpg")
        for className in Self.classes {
            for group in 1...2 {
                let folder = frames.appendingPathComponent(Self.video(className, group: group)).deletingPathExtension()
                guard folder != first else { continue }
                try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: first)
            }
        }
        try FileManager.default.copyItem(at: Self.media.url("UCF101/ucfTrainTestlist"),
                                         to: Self.media.url("frames/splits"))
        let ucf = try UCF101(root: frames, imageFrameRate: 10)
        XCTAssertEqual(ucf.listFolder.lastPathComponent, "splits")
        let items = try ucf.items(split: 3, subset: .train)
        XCTAssertEqual(items.map(\.label), [0, 1, 1, 2])
        XCTAssertEqual(items[0].source, .imageSequence(first, frameRate: 10))
        let dataset = try ucf.dataset(split: 3, subset: .train, sampling: ClipSampling(length: 3),
                                      readOptions: VideoReadOptions(size: (20, 15)))
        let clip = try dataset.clip(at: 0, seed: 1)
        XCTAssertEqual(clip.clip.shape, [3, 15, 20, 3])
        XCTAssertEqual(clip.label, 0)
    }

    func testBadListLinesNameTheFileAndLine() throws {
        let lists = Self.media.url("bad/ucfTrainTestlist")
        let root = Self.media.url("bad/UCF-101")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        for className in Self.classes {
            try FileManager.default.createSymbolicLink(at: root.appendingPathComponent(className),
                                                       withDestinationURL: self.root.appendingPathComponent(className))
        }
        let classInd = lists.appendingPathComponent("classInd.txt")
        try "1 ApplyEyeMakeup\n2 Archery\nthree Basketball\n".write(to: classInd, atomically: true, encoding: .utf8)
        assertVideoError(try UCF101(root: root), mentions: classInd.path + ":3") {
            if case .badListLine(_, 3, "three Basketball", _) = $0 { return true } else { return false }
        }

        try "1 ApplyEyeMakeup\n2 Archery\n3 Basketball\n".write(to: classInd, atomically: true, encoding: .utf8)
        let ucf = try UCF101(root: root)
        let train = lists.appendingPathComponent("trainlist01.txt")
        try "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\nArchery/v_Archery_g01_c01.avi 3\n"
            .write(to: train, atomically: true, encoding: .utf8)
        assertVideoError(try ucf.items(split: 1, subset: .train), mentions: train.path + ":2") {
            if case .badListLine(_, 2, _, let reason) = $0 { return reason.contains("does not match") } else { return false }
        }
        try "Archery/v_Archery_g01_c01.avi x\n".write(to: train, atomically: true, encoding: .utf8)
        assertVideoError(try ucf.items(split: 1, subset: .train), mentions: train.path + ":1") {
            if case .badListLine = $0 { return true } else { return false }
        }
        let test = lists.appendingPathComponent("testlist01.txt")
        try "Archery/v_Archery_g01_c01.avi\nFencing/v_Fencing_g01_c01.avi\n".write(to: test, atomically: true, encoding: .utf8)
        assertVideoError(try ucf.items(split: 1, subset: .test), mentions: test.path + ":2") {
            if case .badListLine(_, 2, _, let reason) = $0 { return reason.contains("Fencing") } else { return false }
        }
        try "Archery/v_Archery_g09_c01.avi\n".write(to: test, atomically: true, encoding: .utf8)
        assertVideoError(try ucf.items(split: 1, subset: .test), mentions: test.path + ":1") {
            if case .badListLine(_, 1, _, let reason) = $0 { return reason.contains("no video file") } else { return false }
        }
        assertVideoError(try ucf.items(split: 2, subset: .test), mentions: "testlist02.txt") {
            if case .fileNotFound = $0 { return true } else { return false }
        }
        assertVideoError(try ucf.items(split: 4, subset: .train), mentions: "split 4") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }

    func testMissingListFolderNamesTheRoot() throws {
        let lonely = Self.media.url("lonely/UCF-101")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        assertVideoError(try UCF101(root: lonely), mentions: lonely.path) {
            if case .badLayout = $0 { return true } else { return false }
        }
        assertVideoError(try UCF101(root: Self.media.url("nowhere")), mentions: "nowhere") {
            if case .fileNotFound = $0 { return true } else { return false }
        }
    }
}
