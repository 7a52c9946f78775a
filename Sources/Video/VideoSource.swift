import Foundation

/// Where frames come from: a video file, or a folder of numbered images.
public enum VideoSource: Equatable, CustomStringConvertible {
    /// A video file in any container and codec FFmpeg reads.
    case file(URL)
    /// A folder of numbered frames (`frame_00001.jpg`, `img_001.png`, ...),
    /// played at `frameRate` frames per second.
    case imageSequence(URL, frameRate: Double)

    /// The default frame rate of image sequences, that of UCF101's videos.
    public static let defaultImageFrameRate = 25.0

    /// The file or folder path, for messages.
    public var path: String {
        switch self {
        case .file(let url), .imageSequence(let url, _): return url.path
        }
    }

    public var description: String { path }

    /// The FFmpeg input arguments (everything up to and including `-i ...`),
    /// after checking that the file or folder exists and can be read.
    func inputArguments() throws -> [String] {
        switch self {
        case .file(let url):
            try Self.checkReadable(url, directory: false)
            return ["-i", url.path]
        case .imageSequence(let url, let frameRate):
            try Self.checkReadable(url, directory: true)
            guard frameRate > 0, frameRate.isFinite else {
                throw VideoError.invalidArgument("frame rate \(frameRate) of \(url.path) must be positive")
            }
            let pattern = try ImageSequencePattern(folder: url)
            return ["-f", "image2", "-framerate", formatNumber(frameRate),
                    "-start_number", String(pattern.firstNumber),
                    "-i", url.appendingPathComponent(pattern.template).path]
        }
    }

    private static func checkReadable(_ url: URL, directory: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw VideoError.fileNotFound(url.path)
        }
        if isDirectory.boolValue != directory {
            throw VideoError.unreadable(url.path, detail: directory ? "not a folder" : "a folder, not a file")
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw VideoError.unreadable(url.path, detail: "permission denied")
        }
    }
}

/// The numbering pattern of a folder of frames: `prefix`, a fixed number of
/// digits, and `.jpg`, `.jpeg` or `.png`.
struct ImageSequencePattern: Equatable {
    /// The FFmpeg image2 template, e.g. `frame_%05d.jpg`.
    let template: String
    /// The lowest frame number present.
    let firstNumber: Int
    /// How many files match.
    let count: Int

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Finds the pattern of the images in `folder`; the most common
    /// prefix/width/extension wins when several are present.
    init(folder: URL) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw VideoError.unreadable(folder.path, detail: "cannot list folder")
        }
        var groups: [String: (count: Int, first: Int)] = [:]
        for name in names {
            guard let (template, number) = Self.split(name) else { continue }
            let group = groups[template] ?? (0, Int.max)
            groups[template] = (group.count + 1, min(group.first, number))
        }
        guard let best = groups.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) else {
            throw VideoError.badLayout(folder.path, detail: "no numbered .jpg or .png frames in folder")
        }
        template = best.key
        firstNumber = best.value.first
        count = best.value.count
    }

    /// Splits `frame_00012.jpg` into (`frame_%05d.jpg`, 12).
    private static func split(_ name: String) -> (String, Int)? {
        guard let dot = name.lastIndex(of: "."),
              imageExtensions.contains(name[name.index(after: dot)...].lowercased()) else { return nil }
        let stem = name[..<dot]
        let digits = stem.reversed().prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 9, let number = Int(String(digits.reversed())) else { return nil }
        let prefix = stem.dropLast(digits.count)
        guard !prefix.contains("%") else { return nil }
        return ("\(prefix)%0\(digits.count)d\(name[dot...])", number)
    }
}

/// What FFprobe reports about a source's video stream.
public struct VideoInfo: Equatable {
    /// Width of the decoded frames, in pixels.
    public let width: Int
    /// Height of the decoded frames, in pixels.
    public let height: Int
    /// Frames per second (the stream's average, or its nominal rate).
    public let frameRate: Double
    /// Length in seconds, when known.
    public let duration: Double?
    /// Number of frames, when the container records it.
    public let frameCount: Int?

    public init(width: Int, height: Int, frameRate: Double, duration: Double?, frameCount: Int?) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.duration = duration
        self.frameCount = frameCount
    }

    /// Frames the source yields when resampled to `rate` frames per second
    /// (its own rate when `nil`); `nil` when the length is unknown.
    public func estimatedFrames(at rate: Double? = nil) -> Int? {
        if rate == nil, let frameCount { return frameCount }
        guard let duration else { return nil }
        return Int((duration * (rate ?? frameRate)).rounded())
    }

    /// Reads the video stream's properties with `ffprobe`.
    /// - Throws: ``VideoError`` when FFprobe is missing, the file is absent
    ///   or not media, or it has no video stream.
    public static func probe(_ source: VideoSource) throws -> VideoInfo {
        let input = try source.inputArguments()
        let ffprobe = try FFmpegTools.ffprobe(for: source.path)
        let arguments = ["-v", "error", "-select_streams", "v:0",
                         "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration"
                             + ":format=duration",
                         "-of", "json"] + input
        let result: (status: Int32, output: Data, errors: String)
        do {
            result = try FFmpegTools.run(ffprobe, arguments)
        } catch {
            throw VideoError.toolNotFound(tool: "ffprobe", file: source.path, detail: "cannot run \(ffprobe.path)")
        }
        guard result.status == 0 else {
            throw VideoError.notMedia(source.path, detail: FFmpegMessages.summary(result.errors, input: source.path))
        }
        guard let report = try? JSONDecoder().decode(ProbeReport.self, from: result.output) else {
            throw VideoError.notMedia(source.path, detail: "unreadable ffprobe report")
        }
        guard let stream = report.streams?.first, let width = stream.width, let height = stream.height,
              width > 0, height > 0 else {
            throw VideoError.noVideoStream(source.path)
        }
        if case .imageSequence(let folder, let frameRate) = source {
            let count = try ImageSequencePattern(folder: folder).count
            return VideoInfo(width: width, height: height, frameRate: frameRate,
                             duration: Double(count) / frameRate, frameCount: count)
        }
        let rate = [stream.averageFrameRate, stream.nominalFrameRate].lazy.compactMap { parseRate($0) }.first
        let duration = [stream.duration, report.format?.duration].lazy
            .compactMap { $0.flatMap(Double.init) }.first { $0 > 0 && $0.isFinite }
        return VideoInfo(width: width, height: height, frameRate: rate ?? 25, duration: duration,
                         frameCount: stream.frameCount.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil })
    }

    private static func parseRate(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(separator: "/")
        guard let numerator = parts.first.flatMap({ Double($0) }) else { return nil }
        let denominator = parts.count > 1 ? Double(parts[1]) ?? 0 : 1
        guard denominator > 0 else { return nil }
        let rate = numerator / denominator
        return rate > 0 && rate.isFinite ? rate : nil
    }

    /// The part of ffprobe's JSON report that is read.
    private struct ProbeReport: Decodable {
        struct Stream: Decodable {
            let width: Int?
            let height: Int?
            let averageFrameRate: String?
            let nominalFrameRate: String?
            let frameCount: String?
            let duration: String?

            enum CodingKeys: String, CodingKey {
                case width, height, duration
                case averageFrameRate = "avg_frame_rate"
                case nominalFrameRate = "r_frame_rate"
                case frameCount = "nb_frames"
            }
        }
        struct Format: Decodable {
            let duration: String?
        }
        let streams: [Stream]?
        let format: Format?
    }
}

/// Helpers to turn FFmpeg's error output into one short line.
enum FFmpegMessages {
    /// The last meaningful line of `stderr`, with the input path removed
    /// (the caller names the file itself), or a generic phrase.
    static func summary(_ stderr: String, input: String) -> String {
        let lines = stderr.split(whereSeparator: \.isNewline)
            .map { $0.replacingOccurrences(of: input + ": ", with: "").trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard let last = lines.last else { return "no error output" }
        return String(last.prefix(300))
    }
}

/// Formats a number for an FFmpeg argument without exponent notation.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(format: "%.6f", value)
}
