import Foundation
import Tensor
import Training
import Video

/// A `DATA` argument that does not name usable data: the one-line message
/// names the argument, the file and the part at fault.
public struct DataSourceError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where clips come from, as the command line's `DATA` argument names it
/// (CLI.md, Data sources): parsed once by ``parse(_:split:subset:)``, opened
/// as a ``ClipDataSource`` by ``makeSource(_:)``.
///
/// ```swift
/// let spec = try DataSourceSpec.parse("synthetic:mode=appearance,classes=6,clips=120,seed=3")
/// let source = try spec.makeSource(ClipSourceOptions(batchSize: 4, frameSize: (64, 64)))
/// ```
public enum DataSourceSpec: Equatable {
    /// The built-in synthetic set; `size` nil means the requested frame size (else 64).
    case synthetic(mode: SyntheticActionSet.Mode, classes: Int?, clips: Int, frames: Int?, size: Int?, seed: UInt64)
    /// A folder in the `data synth` layout: `clips.npy` `[N, T, H, W, 3]`, optional `labels.npy` `[N]` and `classes.txt`.
    case arrays(folder: URL)
    /// A UCF101 root (class folders, with `ucfTrainTestlist` inside or beside it).
    case ucf101(root: URL, split: Int, subset: UCF101.Subset)
    /// One video file; no labels.
    case videoFile(URL)
    /// A folder of video files (searched one level of subfolders deep); no labels.
    case videoFolder(URL)

    /// The `DATA` text that parses back to this spec (a UCF101 root's split and
    /// subset are options of their own).
    public var argument: String {
        switch self {
        case let .synthetic(mode, classes, clips, frames, size, seed):
            let given: [(String, Int?)] = [("classes", classes), ("clips", clips), ("frames", frames), ("size", size)]
            return "synthetic:mode=\(mode.rawValue)" + given.compactMap { key, value in value.map { ",\(key)=\($0)" } }.joined()
                + ",seed=\(seed)"
        case .arrays(let url), .ucf101(let url, _, _), .videoFile(let url), .videoFolder(let url):
            return url.path
        }
    }

    /// The keys of `synthetic:…`, as `keras-delta data synth`'s flags.
    public static let syntheticKeys = ["mode", "classes", "clips", "frames", "size", "seed"]

    /// Parses a `DATA` argument: `synthetic[:key=value,…]`, or a path to a
    /// video file, a `data synth` folder (it holds `clips.npy`), a UCF101 root
    /// (a `ucfTrainTestlist` folder inside or beside it, or `UCF-101` and
    /// `ucfTrainTestlist` inside it), or a folder of videos.
    /// - Parameters:
    ///   - split, subset: the UCF101 split (1, 2 or 3) and half; ignored by other sources.
    /// - Throws: ``DataSourceError`` naming the argument and what is wrong.
    public static func parse(_ text: String, split: Int = 1, subset: UCF101.Subset = .train) throws -> DataSourceSpec {
        if text == "synthetic" || text.hasPrefix("synthetic:") {
            return try parseSynthetic(String(text.dropFirst("synthetic".count).drop { $0 == ":" }), text)
        }
        guard !text.isEmpty else { throw DataSourceError("DATA is empty: give a video, a folder or synthetic[:key=value,…]") }
        let url = URL(fileURLWithPath: text)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataSourceError("DATA '\(text)': no such file or folder")
        }
        guard isDirectory.boolValue else { return .videoFile(url) }
        func exists(_ u: URL) -> Bool { FileManager.default.fileExists(atPath: u.path) }
        if exists(url.appendingPathComponent("clips.npy")) { return .arrays(folder: url) }
        let lists = UCF101.listFolderName + "/classInd.txt"
        var root: URL?
        if exists(url.appendingPathComponent("UCF-101")), exists(url.appendingPathComponent(lists)) {
            root = url.appendingPathComponent("UCF-101")
        } else if exists(url.appendingPathComponent(lists)) || exists(url.deletingLastPathComponent().appendingPathComponent(lists)) {
            root = url
        }
        if let root {
            guard (1...UCF101.splitCount).contains(split) else {
                throw DataSourceError("--split \(split): a UCF101 split is 1, 2 or 3")
            }
            return .ucf101(root: root, split: split, subset: subset)
        }
        return .videoFolder(url)
    }

    private static func parseSynthetic(_ body: String, _ text: String) throws -> DataSourceSpec {
        var mode = SyntheticActionSet.Mode.motion
        var clips = 200, seed: UInt64 = 0
        var classes: Int?, frames: Int?, size: Int?
        var seen = Set<String>()
        for item in body.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw DataSourceError("DATA '\(text)': '\(item)' is not key=value")
            }
            let (key, value) = (parts[0], parts[1])
            guard syntheticKeys.contains(key) else {
                throw DataSourceError("DATA '\(text)': unknown key '\(key)'; the keys are \(syntheticKeys.joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw DataSourceError("DATA '\(text)': key '\(key)' is given twice") }
            func int(_ minimum: Int) throws -> Int {
                guard let v = Int(value), v >= minimum else {
                    throw DataSourceError("DATA '\(text)': \(key) must be an integer of at least \(minimum), got '\(value)'")
                }
                return v
            }
            switch key {
            case "mode":
                guard let m = SyntheticActionSet.Mode(rawValue: value) else {
                    throw DataSourceError("DATA '\(text)': mode must be motion or appearance, got '\(value)'")
                }
                mode = m
            case "classes": classes = try int(2)
            case "clips": clips = try int(1)
            case "frames": frames = try int(1)
            case "size": size = try int(16)
            default:
                guard let s = UInt64(value) else {
                    throw DataSourceError("DATA '\(text)': seed must be a non-negative integer, got '\(value)'")
                }
                seed = s
            }
        }
        return .synthetic(mode: mode, classes: classes, clips: clips, frames: frames, size: size, seed: seed)
    }

    /// Equal when of the same kind, with the same settings and the same paths
    /// (a folder's URL may or may not end in `/`).
    public static func == (a: DataSourceSpec, b: DataSourceSpec) -> Bool {
        func same(_ x: URL, _ y: URL) -> Bool { x.standardizedFileURL.path == y.standardizedFileURL.path }
        switch (a, b) {
        case let (.synthetic(m1, c1, n1, f1, s1, r1), .synthetic(m2, c2, n2, f2, s2, r2)):
            return (m1, c1, n1, f1, s1, r1) == (m2, c2, n2, f2, s2, r2)
        case let (.arrays(x), .arrays(y)), let (.videoFile(x), .videoFile(y)), let (.videoFolder(x), .videoFolder(y)):
            return same(x, y)
        case let (.ucf101(x, s1, h1), .ucf101(y, s2, h2)):
            return same(x, y) && s1 == s2 && h1 == h2
        default:
            return false
        }
    }

    /// Whether the data carries class labels.
    public var hasLabels: Bool {
        switch self {
        case .synthetic, .ucf101: return true
        case .arrays(let folder): return FileManager.default.fileExists(atPath: folder.appendingPathComponent("labels.npy").path)
        case .videoFile, .videoFolder: return false
        }
    }

    /// Opens the data as batches of clips.
    /// - Throws: ``DataSourceError`` or the reader's error (naming the file) when the data cannot be read.
    public func makeSource(_ options: ClipSourceOptions) throws -> ClipDataSource {
        switch self {
        case let .synthetic(mode, classes, clips, frames, size, seed):
            // Made at the model's size and class count when none is given (at least 16 pixels, then resized).
            let height = size ?? options.frameSize.map { Swift.max($0.height, 16) } ?? 64
            let width = size ?? options.frameSize.map { Swift.max($0.width, 16) } ?? 64
            let set: SyntheticActionSet
            do {
                let available = SyntheticActionSet.classNames(for: mode).count
                let matched = options.classCount.flatMap { (2...available).contains($0) ? $0 : nil }
                set = try SyntheticActionSet(.init(mode: mode, classCount: classes ?? matched ?? 10, clipCount: clips,
                                                   frameCount: frames ?? options.clipLength ?? 8,
                                                   height: height, width: width, seed: seed))
            } catch {
                throw DataSourceError("DATA synthetic: \(error)")
            }
            return try ClipDataSource(dataset: set, options: options)
        case .arrays(let folder):
            return try Self.openArrays(folder, options)
        case let .ucf101(root, split, subset):
            let ucf = try UCF101(root: root)
            let length = options.clipLength ?? 8
            let placement: ClipSampling.Placement = options.clipsPerVideo.map { .evenlySpaced(clipsPerVideo: $0) } ?? .random
            let dataset = try ucf.dataset(split: split, subset: subset, sampling: ClipSampling(length: length, placement: placement),
                                          readOptions: readOptions(options))
            return try ClipDataSource(dataset: dataset, options: options)
        case .videoFile(let url):
            let length = options.clipLength ?? 8
            var clipsPerVideo = options.clipsPerVideo
            if clipsPerVideo == nil {
                let info = try VideoInfo.probe(.file(url))
                let frames = info.estimatedFrames(at: options.frameRate) ?? length
                clipsPerVideo = Swift.max(1, frames / length)
            }
            let dataset = try VideoClipDataset(contentsOf: url,
                                               sampling: ClipSampling(length: length, placement: .evenlySpaced(clipsPerVideo: clipsPerVideo!)),
                                               readOptions: readOptions(options))
            return try ClipDataSource(dataset: dataset, labelled: false, options: options)
        case .videoFolder(let url):
            let length = options.clipLength ?? 8
            let placement: ClipSampling.Placement = options.clipsPerVideo.map { .evenlySpaced(clipsPerVideo: $0) } ?? .random
            let dataset = try VideoClipDataset(contentsOf: url, sampling: ClipSampling(length: length, placement: placement),
                                               readOptions: readOptions(options))
            return try ClipDataSource(dataset: dataset, labelled: false, options: options)
        }
    }

    private func readOptions(_ options: ClipSourceOptions) -> VideoReadOptions {
        VideoReadOptions(size: options.frameSize.map { (width: $0.width, height: $0.height) }, frameRate: options.frameRate)
    }

    /// Reads a `data synth` folder into memory.
    private static func openArrays(_ folder: URL, _ options: ClipSourceOptions) throws -> ClipDataSource {
        let clipsURL = folder.appendingPathComponent("clips.npy"), labelsURL = folder.appendingPathComponent("labels.npy")
        let clips: Tensor
        do { clips = try Tensor(npyFile: clipsURL) } catch { throw DataSourceError("\(clipsURL.path): \(error)") }
        guard clips.rank == 5, clips.shape[4] == 3 else {
            throw DataSourceError("\(clipsURL.path): clips must have shape [N, T, H, W, 3], got \(clips.shape)")
        }
        var labels: [Int]?
        if FileManager.default.fileExists(atPath: labelsURL.path) {
            let tensor: Tensor
            do { tensor = try Tensor(npyFile: labelsURL) } catch { throw DataSourceError("\(labelsURL.path): \(error)") }
            guard tensor.rank == 1, tensor.shape[0] == clips.shape[0] else {
                throw DataSourceError("\(labelsURL.path): labels must have shape [\(clips.shape[0])] (one per clip), got \(tensor.shape)")
            }
            labels = try tensor.scalars.enumerated().map { i, v in
                guard v >= 0, v == v.rounded(), v < 1e9 else {
                    throw DataSourceError("\(labelsURL.path): label \(i) is \(v), not a class index")
                }
                return Int(v)
            }
        }
        var names: [String] = []
        if let text = try? String(contentsOf: folder.appendingPathComponent("classes.txt"), encoding: .utf8) {
            names = text.split(whereSeparator: \.isNewline).map(String.init)
        } else if let labels {
            names = (0...(labels.max() ?? 0)).map { "class_\($0)" }
        }
        if let labels, let top = labels.max(), top >= names.count {
            throw DataSourceError("\(labelsURL.path): label \(top) has no line in classes.txt (\(names.count) classes)")
        }
        return try ClipDataSource(clips: clips, labels: labels, classNames: names, options: options)
    }
}
