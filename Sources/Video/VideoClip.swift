import Tensor

/// A run of RGB frames as 8-bit samples, laid out `[T, H, W, 3]` row-major:
/// what a decoder or camera delivers. Convert to a float ``Tensor`` with
/// ``tensor(scaling:)`` or batch clips with ``ClipBatch``.
public struct VideoClip: Equatable {
    /// Colour channels per pixel (always RGB).
    public static let channels = 3

    /// The number of frames, T.
    public let frameCount: Int
    /// Frame height in pixels, H.
    public let height: Int
    /// Frame width in pixels, W.
    public let width: Int
    /// The samples, `frameCount * height * width * 3` of them.
    public var pixels: [UInt8]

    /// Creates a clip from samples in `[T, H, W, 3]` order.
    /// - Throws: ``VideoError/invalidArgument(_:)`` for a negative size, or
    ///   unless `pixels.count == frameCount * height * width * 3`.
    public init(frameCount: Int, height: Int, width: Int, pixels: [UInt8]) throws {
        guard frameCount >= 0, height >= 0, width >= 0 else {
            throw VideoError.invalidArgument("VideoClip: frameCount, height and width must be >= 0, got \(frameCount), \(height), \(width)")
        }
        let (size, overflow) = frameCount.multipliedReportingOverflow(by: height * width * VideoClip.channels)
        guard !overflow, pixels.count == size else {
            throw VideoError.invalidArgument("VideoClip: pixels holds \(pixels.count) samples, which do not fill \(frameCount)x\(height)x\(width)x3")
        }
        self.frameCount = frameCount
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// Creates a clip from frames of equal size.
    /// - Throws: ``VideoError/invalidArgument(_:)`` unless every frame is `height x width`.
    public init(frames: [VideoFrame], height: Int, width: Int) throws {
        var pixels = [UInt8]()
        pixels.reserveCapacity(frames.count * height * width * VideoClip.channels)
        for frame in frames {
            guard frame.width == width, frame.height == height else {
                throw VideoError.invalidArgument("VideoClip: frames must all be \(width)x\(height), got one of \(frame.width)x\(frame.height)")
            }
            pixels.append(contentsOf: frame.pixels)
        }
        try self.init(frameCount: frames.count, height: height, width: width, pixels: pixels)
    }

    /// Samples per frame, `H * W * 3`.
    public var frameSize: Int { height * width * VideoClip.channels }

    /// The shape `[T, H, W, 3]`.
    public var shape: [Int] { [frameCount, height, width, VideoClip.channels] }

    /// Frame `index` as its own value.
    /// - Throws: ``VideoError/invalidArgument(_:)`` when `index` is out of range.
    public func frame(_ index: Int) throws -> VideoFrame {
        guard index >= 0, index < frameCount else { throw VideoError.invalidArgument("VideoClip: frame index \(index) is out of 0..<\(frameCount)") }
        let start = index * frameSize
        return VideoFrame(width: width, height: height, pixels: Array(pixels[start..<start + frameSize]))
    }

    /// The clip with its frames in the given order (indices may repeat).
    /// - Throws: ``VideoError/invalidArgument(_:)`` when an index is out of range.
    public func frames(_ indices: [Int]) throws -> VideoClip {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * frameSize)
        for index in indices {
            guard index >= 0, index < frameCount else { throw VideoError.invalidArgument("VideoClip: frame index \(index) is out of 0..<\(frameCount)") }
            out.append(contentsOf: pixels[index * frameSize..<(index + 1) * frameSize])
        }
        return try VideoClip(frameCount: indices.count, height: height, width: width, pixels: out)
    }

    /// The clip played backwards.
    public var reversed: VideoClip {
        // Every index is in range, so this cannot throw.
        VideoClip(unchecked: frameCount, height: height, width: width,
                  pixels: (0..<frameCount).reversed().flatMap { pixels[$0 * frameSize..<($0 + 1) * frameSize] })
    }

    /// A clip whose sizes the caller has already checked.
    init(unchecked frameCount: Int, height: Int, width: Int, pixels: [UInt8]) {
        self.frameCount = frameCount
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// The clip as a float tensor of shape `[T, H, W, 3]`.
    public func tensor(scaling: PixelScaling = .raw) -> Tensor {
        var scalars = [Float](repeating: 0, count: pixels.count)
        scalars.withUnsafeMutableBufferPointer { out in
            scaling.convert(pixels, into: out.baseAddress!)
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// One decoded RGB frame, `[H, W, 3]` 8-bit samples.
public struct VideoFrame: Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `height * width * 3` samples, row-major, RGB interleaved.
    public let pixels: [UInt8]
}

/// How 8-bit samples map to floats.
public enum PixelScaling: String, CaseIterable {
    /// 0...255, unchanged.
    case raw
    /// x / 255, in 0...1.
    case unit
    /// x / 127.5 - 1, in -1...1.
    case symmetric

    /// Converts `samples` into `out`, which holds at least `samples.count` floats.
    func convert(_ samples: [UInt8], into out: UnsafeMutablePointer<Float>) {
        let (scale, offset): (Float, Float)
        switch self {
        case .raw: (scale, offset) = (1, 0)
        case .unit: (scale, offset) = (1 / 255, 0)
        case .symmetric: (scale, offset) = (1 / 127.5, -1)
        }
        samples.withUnsafeBufferPointer { input in
            for i in 0..<input.count {
                out[i] = Float(input[i]) * scale + offset
            }
        }
    }
}
