/// Which frames of a video make a clip: `length` frames taken every
/// `frameStep` frames, at a random or evenly spaced place in the video.
public struct ClipSampling: Equatable {
    /// Where clips start in a video.
    public enum Placement: Equatable {
        /// One clip per video, starting at a random frame.
        case random
        /// `clipsPerVideo` clips spread evenly from the first frame to the last
        /// (one clip: the centre one); for evaluation.
        case evenlySpaced(clipsPerVideo: Int)
    }

    /// Frames per clip, T.
    public var length: Int
    /// Distance in frames between consecutive clip frames (1: consecutive).
    public var frameStep: Int
    /// Where clips start.
    public var placement: Placement

    public init(length: Int, frameStep: Int = 1, placement: Placement = .random) {
        self.length = length
        self.frameStep = frameStep
        self.placement = placement
    }

    /// Frames of the video one clip spans: `(length - 1) * frameStep + 1`.
    public var span: Int { (length - 1) * frameStep + 1 }

    /// Clips taken from each video.
    public var clipsPerVideo: Int {
        switch placement {
        case .random: return 1
        case .evenlySpaced(let count): return count
        }
    }

    /// Throws `invalidArgument` when a count is not positive.
    func validate() throws {
        guard length > 0 else { throw VideoError.invalidArgument("clip length \(length) must be positive") }
        guard frameStep > 0 else { throw VideoError.invalidArgument("frame step \(frameStep) must be positive") }
        guard clipsPerVideo > 0 else {
            throw VideoError.invalidArgument("clips per video \(clipsPerVideo) must be positive")
        }
    }

    /// The first frame of clip `window` (`0..<clipsPerVideo`) in a video of `frameCount` frames.
    func start(frameCount: Int, window: Int, random: inout SeededRandom) -> Int {
        let room = max(0, frameCount - span)
        switch placement {
        case .random:
            return random.below(room + 1)
        case .evenlySpaced(let count):
            return count == 1 ? room / 2 : Int((Double(room * window) / Double(count - 1)).rounded())
        }
    }
}

/// Frame indices of clips within a sequence of frames.
public enum ClipWindows {
    /// Every window of `length` frames (every `frameStep`-th frame) whose start
    /// is a multiple of `stride`, as lists of frame indices. Empty when the
    /// sequence is shorter than one window.
    /// - Throws: ``VideoError/invalidArgument(_:)`` unless `length`, `stride` and `frameStep` are positive.
    public static func sliding(frameCount: Int, length: Int, stride: Int, frameStep: Int = 1) throws -> [[Int]] {
        guard length > 0, stride > 0, frameStep > 0 else {
            throw VideoError.invalidArgument("ClipWindows: length, stride and frameStep must be > 0, got \(length), \(stride), \(frameStep)")
        }
        let span = (length - 1) * frameStep + 1
        guard frameCount >= span else { return [] }
        return Swift.stride(from: 0, through: frameCount - span, by: stride).map { start in
            (0..<length).map { start + $0 * frameStep }
        }
    }

    /// One window at a random start. A sequence shorter than the window is
    /// padded by repeating its last frame.
    public static func random(frameCount: Int, length: Int, frameStep: Int = 1,
                              using random: inout SeededRandom) throws -> [Int] {
        guard frameCount > 0, length > 0, frameStep > 0 else {
            throw VideoError.invalidArgument("ClipWindows: frameCount, length and frameStep must be > 0, got \(frameCount), \(length), \(frameStep)")
        }
        let sampling = ClipSampling(length: length, frameStep: frameStep)
        let start = sampling.start(frameCount: frameCount, window: 0, random: &random)
        return (0..<length).map { min(start + $0 * frameStep, frameCount - 1) }
    }
}

extension VideoClip {
    /// The sliding windows of this clip (see ``ClipWindows/sliding(frameCount:length:stride:frameStep:)``).
    public func slidingWindows(length: Int, stride: Int, frameStep: Int = 1) throws -> [VideoClip] {
        try ClipWindows.sliding(frameCount: frameCount, length: length, stride: stride, frameStep: frameStep).map(frames)
    }
}

/// Sliding-window clips cut from a ``VideoReader`` as it decodes, holding only
/// one window of frames in memory.
///
/// ```swift
/// let reader = try VideoReader(.file(url), options: .init(size: (64, 64), frameRate: 10))
/// for clip in SlidingClips(reader: reader, length: 8, stride: 4) { ... }
/// ```
public final class SlidingClips: Sequence, IteratorProtocol {
    /// The reader frames come from.
    public let reader: VideoReader
    /// The error that ended iteration through `next()`, if any.
    public private(set) var failure: VideoError?
    private let length: Int
    private let stride: Int
    private let frameStep: Int
    private var window: [VideoFrame] = []
    private var framesSeen = 0

    /// Cuts windows of `length` frames, every `frameStep`-th frame, starting every `stride` frames.
    /// - Throws: ``VideoError/invalidArgument(_:)`` unless `length`, `stride` and `frameStep` are positive.
    public init(reader: VideoReader, length: Int, stride: Int, frameStep: Int = 1) throws {
        guard length > 0, stride > 0, frameStep > 0 else {
            throw VideoError.invalidArgument("SlidingClips: length, stride and frameStep must be > 0, got \(length), \(stride), \(frameStep)")
        }
        self.reader = reader
        self.length = length
        self.stride = stride
        self.frameStep = frameStep
    }

    /// The next window, or `nil` when the video ends.
    /// - Throws: the reader's ``VideoError`` when decoding fails.
    public func nextClip() throws -> VideoClip? {
        let span = (length - 1) * frameStep + 1
        while let frame = try reader.readFrame() {
            window.append(frame)
            if window.count > span { window.removeFirst() }
            framesSeen += 1
            if window.count == span, (framesSeen - span) % stride == 0 {
                let frames = Swift.stride(from: 0, to: span, by: frameStep).map { window[$0] }
                return try VideoClip(frames: frames, height: reader.height, width: reader.width)
            }
        }
        return nil
    }

    /// The next window; `nil` at the end or on failure (then see ``failure``).
    public func next() -> VideoClip? {
        do {
            return try nextClip()
        } catch let error as VideoError {
            failure = error
        } catch {
            failure = .decodingFailed(reader.source.path, detail: "\(error)")
        }
        return nil
    }
}
