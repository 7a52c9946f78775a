import Foundation

/// How a reader sizes, times and limits the frames it decodes.
public struct VideoReadOptions: Equatable {
    /// How frames are brought to the requested size.
    public enum Resize: String, Equatable {
        /// Scale to exactly width x height, ignoring the aspect ratio.
        case stretch
        /// Scale, keeping the aspect ratio, until the frame covers
        /// width x height, then cut out the centre.
        case cover
    }

    /// The interpolation FFmpeg's scaler uses.
    public enum Interpolation: String, Equatable {
        case nearest = "neighbor", bilinear, bicubic, area
    }

    /// Output width and height in pixels; `nil` keeps the source size.
    public var size: (width: Int, height: Int)?
    /// How to reach `size`.
    public var resize: Resize
    /// The scaler's interpolation.
    public var interpolation: Interpolation
    /// Output frames per second (FFmpeg's `fps` filter); `nil` keeps the source's frames.
    public var frameRate: Double?
    /// Where decoding starts, in seconds (FFmpeg's input `-ss`).
    public var startTime: Double
    /// The most frames to deliver; `nil` for all.
    public var maxFrames: Int?

    public init(size: (width: Int, height: Int)? = nil, resize: Resize = .stretch,
                interpolation: Interpolation = .bilinear, frameRate: Double? = nil,
                startTime: Double = 0, maxFrames: Int? = nil) {
        self.size = size
        self.resize = resize
        self.interpolation = interpolation
        self.frameRate = frameRate
        self.startTime = startTime
        self.maxFrames = maxFrames
    }

    public static func == (a: VideoReadOptions, b: VideoReadOptions) -> Bool {
        a.size?.width == b.size?.width && a.size?.height == b.size?.height && a.resize == b.resize
            && a.interpolation == b.interpolation && a.frameRate == b.frameRate
            && a.startTime == b.startTime && a.maxFrames == b.maxFrames
    }

    /// Throws `invalidArgument` for sizes, rates or limits out of range.
    func validate() throws {
        if let size, size.width <= 0 || size.height <= 0 {
            throw VideoError.invalidArgument("frame size \(size.width)x\(size.height) must be positive")
        }
        if let frameRate, !(frameRate > 0 && frameRate.isFinite) {
            throw VideoError.invalidArgument("frame rate \(frameRate) must be positive")
        }
        guard startTime >= 0, startTime.isFinite else {
            throw VideoError.invalidArgument("start time \(startTime) must be zero or more")
        }
        if let maxFrames, maxFrames < 0 {
            throw VideoError.invalidArgument("maximum frame count \(maxFrames) must be zero or more")
        }
    }

    /// The FFmpeg filter graph that produces `width x height` RGB frames from a
    /// source of `sourceWidth x sourceHeight`.
    func filterGraph(sourceWidth: Int, sourceHeight: Int) -> (graph: String, width: Int, height: Int) {
        var filters: [String] = []
        if let frameRate { filters.append("fps=\(formatNumber(frameRate))") }
        guard let size else {
            filters.append("format=rgb24")
            return (filters.joined(separator: ","), sourceWidth, sourceHeight)
        }
        let flags = "flags=\(interpolation.rawValue)"
        switch resize {
        case .stretch:
            filters.append("scale=\(size.width):\(size.height):\(flags)")
            filters.append("format=rgb24")
        case .cover:
            let scale = max(Double(size.width) / Double(sourceWidth), Double(size.height) / Double(sourceHeight))
            let scaledWidth = max(size.width, Int((Double(sourceWidth) * scale).rounded()))
            let scaledHeight = max(size.height, Int((Double(sourceHeight) * scale).rounded()))
            filters.append("scale=\(scaledWidth):\(scaledHeight):\(flags)")
            filters.append("format=rgb24")
            filters.append("crop=\(size.width):\(size.height)"
                + ":\((scaledWidth - size.width) / 2):\((scaledHeight - size.height) / 2)")
        }
        return (filters.joined(separator: ","), size.width, size.height)
    }
}

/// Decodes a video file or image folder into RGB frames, streaming them from
/// an `ffmpeg` subprocess through a pipe.
///
/// Memory stays at about one frame however long the video is. The subprocess
/// is reaped when the frames run out, on ``close()``, or when the reader is
/// released, whichever comes first.
///
/// ```swift
/// let reader = try VideoReader(.file(url), options: .init(size: (112, 112), resize: .cover, frameRate: 10))
/// for frame in reader { ... }          // or: while let frame = try reader.readFrame() { ... }
/// let clip = try VideoReader.readClip(.file(url), options: .init(size: (64, 64), maxFrames: 16))
/// ```
///
/// A reader is used from one thread at a time.
public final class VideoReader: Sequence, IteratorProtocol {
    /// The source being decoded.
    public let source: VideoSource
    /// The source's properties, from FFprobe.
    public let info: VideoInfo
    /// Width of the delivered frames.
    public let width: Int
    /// Height of the delivered frames.
    public let height: Int
    /// The FFmpeg filter graph in use (for reproducing the output with FFmpeg itself).
    public let filterGraph: String
    /// The error that ended iteration through `next()`, if any.
    public private(set) var failure: VideoError?
    /// How many frames have been delivered.
    public private(set) var framesRead = 0

    private let child: ChildProcess
    private let maxFrames: Int?
    private var finished = false

    /// Starts decoding `source`.
    /// - Parameters:
    ///   - info: the source's properties when already known (saves an FFprobe run).
    /// - Throws: ``VideoError`` when FFmpeg is missing, the source is missing,
    ///   unreadable or not a video, or the options are out of range.
    public init(_ source: VideoSource, options: VideoReadOptions = VideoReadOptions(), info: VideoInfo? = nil) throws {
        try options.validate()
        let input = try source.inputArguments()
        let ffmpeg = try FFmpegTools.ffmpeg(for: source.path)
        let info = try info ?? VideoInfo.probe(source)
        let filter = options.filterGraph(sourceWidth: info.width, sourceHeight: info.height)

        var arguments = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        if options.startTime > 0 { arguments += ["-ss", formatNumber(options.startTime)] }
        arguments += input
        arguments += ["-map", "0:v:0", "-an", "-sn", "-dn", "-vf", filter.graph, "-fps_mode", "passthrough"]
        if let maxFrames = options.maxFrames { arguments += ["-frames:v", String(maxFrames)] }
        arguments += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]

        let child: ChildProcess
        do {
            child = try ChildProcess(executable: ffmpeg, arguments: arguments)
        } catch {
            throw VideoError.toolNotFound(tool: "ffmpeg", file: source.path, detail: "cannot run \(ffmpeg.path)")
        }

        self.source = source
        self.info = info
        self.width = filter.width
        self.height = filter.height
        self.filterGraph = filter.graph
        self.child = child
        self.maxFrames = options.maxFrames
    }

    deinit {
        close()
    }

    /// Bytes per frame, `width * height * 3`.
    public var frameByteCount: Int { width * height * VideoClip.channels }

    /// The process id of the `ffmpeg` subprocess.
    public var processIdentifier: Int32 { child.processIdentifier }

    /// Whether the `ffmpeg` subprocess is still running.
    public var isRunning: Bool { child.isRunning }

    /// Reads the next frame into `buffer` (at least ``frameByteCount`` bytes).
    /// - Returns: `false` at the end of the video.
    /// - Throws: ``VideoError/decodingFailed(_:detail:)`` when FFmpeg fails or
    ///   the output ends inside a frame.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard buffer.count >= frameByteCount else {
            throw VideoError.invalidArgument("VideoReader.read: buffer holds \(buffer.count) bytes, less than a frame's \(frameByteCount)")
        }
        if finished { return false }
        if let maxFrames, framesRead >= maxFrames {
            try finish()
            return false
        }
        let fd = child.output.fileHandleForReading.fileDescriptor
        var filled = 0
        while filled < frameByteCount {
            let n = Foundation.read(fd, buffer.baseAddress! + filled, frameByteCount - filled)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close()
                throw VideoError.decodingFailed(source.path, detail: "reading FFmpeg output: \(reason)")
            }
            if n == 0 { break }
            filled += n
        }
        if filled == frameByteCount {
            framesRead += 1
            return true
        }
        try finish()
        if filled > 0 {
            throw VideoError.decodingFailed(source.path,
                                            detail: "output ended inside frame \(framesRead) (\(filled) of \(frameByteCount) bytes)")
        }
        return false
    }

    /// The next frame, or `nil` at the end of the video.
    public func readFrame() throws -> VideoFrame? {
        var pixels = [UInt8](repeating: 0, count: frameByteCount)
        let gotFrame = try pixels.withUnsafeMutableBytes { try read(into: $0) }
        return gotFrame ? VideoFrame(width: width, height: height, pixels: pixels) : nil
    }

    /// The next frame; `nil` at the end or on failure (then see ``failure``).
    public func next() -> VideoFrame? {
        do {
            return try readFrame()
        } catch let error as VideoError {
            failure = error
        } catch {
            failure = .decodingFailed(source.path, detail: "\(error)")
        }
        return nil
    }

    /// Reads up to `count` more frames into one clip (fewer at the end of the video).
    public func readClip(maxFrames count: Int = .max) throws -> VideoClip {
        var pixels = [UInt8]()
        var frames = 0
        var frame = [UInt8](repeating: 0, count: frameByteCount)
        while frames < count, try frame.withUnsafeMutableBytes({ try read(into: $0) }) {
            pixels.append(contentsOf: frame)
            frames += 1
        }
        return try VideoClip(frameCount: frames, height: height, width: width, pixels: pixels)
    }

    /// Decodes a whole source (or `options.maxFrames` of it) into one clip.
    public static func readClip(_ source: VideoSource, options: VideoReadOptions = VideoReadOptions(),
                                info: VideoInfo? = nil) throws -> VideoClip {
        let reader = try VideoReader(source, options: options, info: info)
        defer { reader.close() }
        return try reader.readClip()
    }

    /// Stops decoding and reaps the subprocess. Safe to call more than once.
    public func close() {
        finished = true
        child.stop()
    }

    /// Reaps FFmpeg after its output ended, and reports its failure.
    private func finish() throws {
        finished = true
        let (status, errors) = child.waitForExit()
        guard status == 0 else {
            throw VideoError.decodingFailed(source.path, detail: FFmpegMessages.summary(errors, input: source.path))
        }
    }
}
