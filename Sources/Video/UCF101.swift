import Foundation

/// The UCF101 action-recognition layout: class folders of videos plus the
/// official split lists.
///
/// ```text
/// <root>/<Class>/v_<Class>_gXX_cYY.avi            videos, or
/// <root>/<Class>/v_<Class>_gXX_cYY/frame_00001.jpg  frames as images
/// <anywhere beside or inside root>/ucfTrainTestlist/
///     classInd.txt                 "1 ApplyEyeMakeup"
///     trainlist01.txt ... 03       "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
///     testlist01.txt ... 03        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
/// ```
/// Labels are 0-based: the `classInd.txt` index minus one.
public struct UCF101 {
    /// The training or the test half of a split.
    public enum Subset: String, CaseIterable {
        case train, test
    }

    /// One listed video.
    public struct Item: Equatable {
        /// The path as written in the list, e.g. `ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi`.
        public let listedPath: String
        /// The video file, or its folder of frames.
        public let source: VideoSource
        /// The 0-based class index.
        public let label: Int
    }

    /// The folder holding the class folders.
    public let root: URL
    /// The folder holding `classInd.txt` and the split lists.
    public let listFolder: URL
    /// Class names; the label is the index in this array.
    public let classNames: [String]
    /// The frame rate assumed for folders of frame images.
    public let imageFrameRate: Double

    /// The usual name of the folder of split lists.
    public static let listFolderName = "ucfTrainTestlist"
    /// The number of official splits.
    public static let splitCount = 3

    /// Opens a UCF101 tree.
    /// - Parameters:
    ///   - root: the folder of class folders (any name: `UCF-101`, `ucf101_frames`, ...).
    ///   - listFolder: the split-list folder; found beside or inside `root` when `nil`.
    ///   - imageFrameRate: frames per second of frames-as-images videos.
    /// - Throws: ``VideoError`` when the folders or `classInd.txt` are missing or malformed.
    public init(root: URL, listFolder: URL? = nil,
                imageFrameRate: Double = VideoSource.defaultImageFrameRate) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VideoError.fileNotFound(root.path)
        }
        guard imageFrameRate > 0, imageFrameRate.isFinite else {
            throw VideoError.invalidArgument("image frame rate \(imageFrameRate) must be positive")
        }
        let lists = try listFolder ?? Self.findListFolder(near: root)
        self.root = root
        self.listFolder = lists
        self.classNames = try Self.parseClassIndex(lists.appendingPathComponent("classInd.txt"))
        self.imageFrameRate = imageFrameRate
    }

    /// The videos of `subset` in split `split` (1, 2 or 3), in list order.
    /// - Throws: ``VideoError`` for a missing list, a malformed line, or a listed video that is absent.
    public func items(split: Int, subset: Subset) throws -> [Item] {
        guard (1...Self.splitCount).contains(split) else {
            throw VideoError.invalidArgument("UCF101 split \(split) is not 1, 2 or 3")
        }
        let list = listFolder.appendingPathComponent("\(subset.rawValue)list0\(split).txt")
        let classIndex = Dictionary(classNames.enumerated().map { ($0.element.lowercased(), $0.offset) },
                                    uniquingKeysWith: { first, _ in first })
        return try Self.lines(of: list).map { number, text in
            func bad(_ reason: String) -> VideoError {
                .badListLine(file: list.path, line: number, text: text, reason: reason)
            }
            let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.count <= 2 else { throw bad("expected a video path and an optional label") }
            let path = fields[0]
            let components = path.split(separator: "/")
            guard components.count == 2 else { throw bad("expected <Class>/<video> as the path") }
            guard let label = classIndex[components[0].lowercased()] else {
                throw bad("class folder \(components[0]) is not in classInd.txt")
            }
            if fields.count == 2 {
                guard let listed = Int(fields[1]), (1...classNames.count).contains(listed) else {
                    throw bad("label \(fields[1]) is not a class index 1...\(classNames.count)")
                }
                guard listed - 1 == label else {
                    throw bad("label \(listed) does not match class folder \(components[0]) (\(label + 1))")
                }
            }
            guard let source = resolve(path) else {
                throw bad("no video file or frames folder for it under \(root.path)")
            }
            return Item(listedPath: path, source: source, label: label)
        }
    }

    /// A clip dataset over the videos of one split and subset.
    public func dataset(split: Int, subset: Subset, sampling: ClipSampling,
                        readOptions: VideoReadOptions = VideoReadOptions()) throws -> VideoClipDataset {
        let entries = try items(split: split, subset: subset).map { VideoClipDataset.Entry(source: $0.source, label: $0.label) }
        return try VideoClipDataset(entries: entries, classNames: classNames, sampling: sampling, readOptions: readOptions)
    }

    /// The video file for a listed path, or else the folder of its frames.
    private func resolve(_ listedPath: String) -> VideoSource? {
        let file = root.appendingPathComponent(listedPath)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return .file(file)
        }
        let folder = file.deletingPathExtension()
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .imageSequence(folder, frameRate: imageFrameRate)
        }
        return nil
    }

    /// The split-list folder: `ucfTrainTestlist` inside or beside `root`, or
    /// else any folder there that holds `classInd.txt`.
    private static func findListFolder(near root: URL) throws -> URL {
        let parent = root.deletingLastPathComponent()
        let named = [root.appendingPathComponent(listFolderName), parent.appendingPathComponent(listFolderName)]
        var candidates = named + [root]
        for folder in [root, parent] {
            let children = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            candidates += children.sorted().map { folder.appendingPathComponent($0) }
        }
        for folder in candidates
        where FileManager.default.fileExists(atPath: folder.appendingPathComponent("classInd.txt").path) {
            return folder
        }
        throw VideoError.badLayout(root.path, detail: "no \(listFolderName) folder with classInd.txt inside or beside it")
    }

    /// Parses `classInd.txt`: one "index name" line per class, indices 1...N each once.
    private static func parseClassIndex(_ file: URL) throws -> [String] {
        let entries = try lines(of: file)
        var names = [String?](repeating: nil, count: entries.count)
        for (number, text) in entries {
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let index = Int(fields[0]) else {
                throw VideoError.badListLine(file: file.path, line: number, text: text,
                                             reason: "expected \"<index> <ClassName>\"")
            }
            guard (1...entries.count).contains(index), names[index - 1] == nil else {
                throw VideoError.badListLine(file: file.path, line: number, text: text,
                                             reason: "class index \(index) is repeated or outside 1...\(entries.count)")
            }
            names[index - 1] = String(fields[1])
        }
        guard !names.isEmpty else { throw VideoError.badLayout(file.path, detail: "lists no classes") }
        return names.map { $0! }
    }

    /// The non-blank lines of a text file with their 1-based line numbers,
    /// trimmed (the official lists use CRLF line ends).
    private static func lines(of file: URL) throws -> [(Int, String)] {
        guard FileManager.default.fileExists(atPath: file.path) else { throw VideoError.fileNotFound(file.path) }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw VideoError.unreadable(file.path, detail: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VideoError.unreadable(file.path, detail: "not UTF-8 text")
        }
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { ($0.offset + 1, $0.element.trimmingCharacters(in: .whitespaces)) }
            .filter { !$0.1.isEmpty }
    }
}
