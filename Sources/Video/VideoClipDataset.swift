import Foundation

/// Clips decoded on demand from video files or frame folders.
///
/// Each clip is `sampling.length` frames at `readOptions`' size and frame rate,
/// cut from its video as `sampling.placement` says. Videos are probed once
/// (FFprobe) and the result is cached for the dataset's lifetime.
public struct VideoClipDataset: ClipDataset {
    /// A video and its label.
    public struct Entry: Equatable {
        public var source: VideoSource
        public var label: Int

        public init(source: VideoSource, label: Int) {
            self.source = source
            self.label = label
        }
    }

    /// The videos, in order.
    public let entries: [Entry]
    public let classNames: [String]
    /// How clips are cut from each video.
    public let sampling: ClipSampling
    /// Size, resize mode, interpolation and frame rate of the decoded frames
    /// (its start time and frame limit are set per clip).
    public let readOptions: VideoReadOptions
    private let probes = ProbeCache()

    /// File extensions treated as videos when listing a folder.
    public static let videoExtensions: Set<String> = [
        "avi", "mp4", "m4v", "mkv", "mov", "webm", "mpg", "mpeg", "wmv", "flv", "ogv", "3gp", "ts",
    ]

    /// Creates a dataset over `entries`.
    /// - Throws: `invalidArgument` for a bad sampling, read option or label.
    public init(entries: [Entry], classNames: [String], sampling: ClipSampling,
                readOptions: VideoReadOptions = VideoReadOptions()) throws {
        try sampling.validate()
        try readOptions.validate()
        if let bad = entries.first(where: { !classNames.indices.contains($0.label) }) {
            throw VideoError.invalidArgument("label \(bad.label) of \(bad.source.path) is not a class index "
                + "0..<\(classNames.count)")
        }
        self.entries = entries
        self.classNames = classNames
        self.sampling = sampling
        self.readOptions = readOptions
    }

    /// A dataset over a folder: its video files form one class named after the
    /// folder; or, when it holds none, each subfolder of videos is a class
    /// (sorted by name). A single video file is a one-video dataset.
    public init(contentsOf url: URL, sampling: ClipSampling,
                readOptions: VideoReadOptions = VideoReadOptions()) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw VideoError.fileNotFound(url.path)
        }
        guard isDirectory.boolValue else {
            try self.init(entries: [Entry(source: .file(url), label: 0)], classNames: [url.lastPathComponent],
                          sampling: sampling, readOptions: readOptions)
            return
        }
        let top = try Self.videos(in: url)
        if !top.isEmpty {
            try self.init(entries: top.map { Entry(source: .file($0), label: 0) }, classNames: [url.lastPathComponent],
                          sampling: sampling, readOptions: readOptions)
            return
        }
        var entries: [Entry] = []
        var classNames: [String] = []
        for name in try Self.sortedContents(of: url) {
            let folder = url.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory),
                  isDirectory.boolValue else { continue }
            let videos = try Self.videos(in: folder)
            guard !videos.isEmpty else { continue }
            entries += videos.map { Entry(source: .file($0), label: classNames.count) }
            classNames.append(name)
        }
        guard !entries.isEmpty else {
            throw VideoError.badLayout(url.path, detail: "no video files in the folder or its subfolders")
        }
        try self.init(entries: entries, classNames: classNames, sampling: sampling, readOptions: readOptions)
    }

    public var count: Int { entries.count * sampling.clipsPerVideo }

    public func clip(at index: Int, seed: UInt64) throws -> LabeledClip {
        guard index >= 0, index < count else { throw VideoError.invalidArgument("VideoClipDataset: clip index \(index) is out of 0..<\(count)") }
        let entry = entries[index / sampling.clipsPerVideo]
        let info = try probes.info(for: entry.source)
        let frameRate = readOptions.frameRate ?? info.frameRate
        let frameCount = info.estimatedFrames(at: readOptions.frameRate) ?? sampling.span
        var random = SeededRandom(seed: seed, stream: UInt64(index))
        let start = sampling.start(frameCount: frameCount, window: index % sampling.clipsPerVideo, random: &random)
        var options = readOptions
        options.startTime = Double(start) / frameRate
        options.maxFrames = sampling.span
        let decoded = try VideoReader.readClip(entry.source, options: options, info: info)
        guard decoded.frameCount > 0 else {
            throw VideoError.decodingFailed(entry.source.path,
                                            detail: "no frames from \(formatNumber(options.startTime)) s on")
        }
        // A video shorter than the clip repeats its last frame.
        let frames = (0..<sampling.length).map { min($0 * sampling.frameStep, decoded.frameCount - 1) }
        return LabeledClip(clip: try decoded.frames(frames), label: entry.label)
    }

    private static func sortedContents(of folder: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw VideoError.unreadable(folder.path, detail: "cannot list folder")
        }
    }

    private static func videos(in folder: URL) throws -> [URL] {
        try sortedContents(of: folder)
            .filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .map { folder.appendingPathComponent($0) }
    }
}

/// Thread-safe memo of FFprobe results by source path.
private final class ProbeCache {
    private var infos: [String: VideoInfo] = [:]
    private let lock = NSLock()

    func info(for source: VideoSource) throws -> VideoInfo {
        lock.lock()
        let known = infos[source.path]
        lock.unlock()
        if let known { return known }
        let info = try VideoInfo.probe(source)
        lock.lock()
        infos[source.path] = info
        lock.unlock()
        return info
    }
}
