/// Random geometric and photometric changes applied identically to every
/// frame of a clip: crop/zoom, shift, rotation, horizontal flip, brightness
/// and contrast.
///
/// Parameters are drawn once per clip (``draw(using:)``), so the clip's
/// motion is untouched; a seed makes them reproducible. Geometry is one
/// inverse affine map per clip, sampled bilinearly with edge replication.
///
/// ```swift
/// let augmentation = ClipAugmentation(outputSize: (56, 56), zoom: 1...1.2, rotation: 10, horizontalFlip: true)
/// let augmented = augmentation.apply(to: clip, seed: 42)
/// ```
public struct ClipAugmentation: Equatable {
    /// The output frame size; `nil` keeps the input size. A smaller size
    /// than the input is a random crop.
    public var outputSize: (width: Int, height: Int)?
    /// Zoom factors drawn from (> 1 magnifies, showing less of the frame).
    public var zoom: ClosedRange<Double>
    /// The largest shift, as a fraction of the output size, in each direction,
    /// beyond the room a crop already has.
    public var translation: Double
    /// The largest rotation, in degrees, either way.
    public var rotation: Double
    /// Whether to mirror left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// The largest brightness change either way, in 0–255 units.
    public var brightness: Double
    /// Contrast factors drawn from (about mid-grey, 128).
    public var contrast: ClosedRange<Double>

    public init(outputSize: (width: Int, height: Int)? = nil, zoom: ClosedRange<Double> = 1...1,
                translation: Double = 0, rotation: Double = 0, horizontalFlip: Bool = false,
                brightness: Double = 0, contrast: ClosedRange<Double> = 1...1) {
        self.outputSize = outputSize
        self.zoom = zoom
        self.translation = translation
        self.rotation = rotation
        self.horizontalFlip = horizontalFlip
        self.brightness = brightness
        self.contrast = contrast
    }

    /// No change at all.
    public static let none = ClipAugmentation()

    /// A moderate default for training: zoom up to 15 %, shift up to 5 %,
    /// rotation up to 5°, flips, brightness ±16 and contrast ±15 %.
    public static let standard = ClipAugmentation(zoom: 1...1.15, translation: 0.05, rotation: 5,
                                                  horizontalFlip: true, brightness: 16, contrast: 0.85...1.15)

    public static func == (a: ClipAugmentation, b: ClipAugmentation) -> Bool {
        a.outputSize?.width == b.outputSize?.width && a.outputSize?.height == b.outputSize?.height
            && a.zoom == b.zoom && a.translation == b.translation && a.rotation == b.rotation
            && a.horizontalFlip == b.horizontalFlip && a.brightness == b.brightness && a.contrast == b.contrast
    }

    /// The values drawn for one clip. Shifts are fractions of the room
    /// available, so one draw suits any input size.
    public struct Parameters: Equatable {
        public var zoom: Double
        /// Horizontal and vertical shift, each in -1...1 of the available room.
        public var shiftX, shiftY: Double
        /// Rotation in degrees, clockwise on screen.
        public var rotation: Double
        public var flip: Bool
        public var brightness: Double
        public var contrast: Double

        public init(zoom: Double = 1, shiftX: Double = 0, shiftY: Double = 0, rotation: Double = 0,
                    flip: Bool = false, brightness: Double = 0, contrast: Double = 1) {
            self.zoom = zoom
            self.shiftX = shiftX
            self.shiftY = shiftY
            self.rotation = rotation
            self.flip = flip
            self.brightness = brightness
            self.contrast = contrast
        }
    }

    /// Throws `invalidArgument` for sizes or ranges that make no sense.
    public func validate() throws {
        if let size = outputSize, size.width <= 0 || size.height <= 0 {
            throw VideoError.invalidArgument("augmentation output size \(size.width)x\(size.height) must be positive")
        }
        guard zoom.lowerBound > 0, zoom.upperBound.isFinite else {
            throw VideoError.invalidArgument("augmentation zoom \(zoom) must be positive")
        }
        guard translation >= 0, rotation >= 0, brightness >= 0, contrast.lowerBound >= 0,
              translation.isFinite, rotation.isFinite, brightness.isFinite, contrast.upperBound.isFinite else {
            throw VideoError.invalidArgument("augmentation translation, rotation, brightness and contrast "
                + "must be finite and not negative")
        }
    }

    /// Draws one clip's parameters.
    public func draw(using random: inout SeededRandom) -> Parameters {
        Parameters(zoom: random.uniform(zoom), shiftX: random.uniform(-1...1), shiftY: random.uniform(-1...1),
                   rotation: random.uniform(-rotation...rotation), flip: horizontalFlip && random.chance(0.5),
                   brightness: random.uniform(-brightness...brightness), contrast: random.uniform(contrast))
    }

    /// `clip` augmented with parameters drawn from `seed`.
    public func apply(to clip: VideoClip, seed: UInt64) -> VideoClip {
        var random = SeededRandom(seed: seed)
        return apply(to: clip, parameters: draw(using: &random))
    }

    /// `clip` augmented with the given parameters, identically on every frame.
    public func apply(to clip: VideoClip, parameters: Parameters) -> VideoClip {
        let outWidth = outputSize?.width ?? clip.width
        let outHeight = outputSize?.height ?? clip.height
        let map = SamplingMap(inputWidth: clip.width, inputHeight: clip.height,
                              outputWidth: outWidth, outputHeight: outHeight,
                              parameters: parameters, translation: translation)
        let scale = Float(parameters.contrast)
        let offset = Float(128 * (1 - parameters.contrast) + parameters.brightness)
        let outFrame = outWidth * outHeight * VideoClip.channels
        var pixels = [UInt8](repeating: 0, count: clip.frameCount * outFrame)
        clip.pixels.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                for frame in 0..<clip.frameCount {
                    map.sample(input.baseAddress! + frame * clip.frameSize, into: output.baseAddress! + frame * outFrame,
                               scale: scale, offset: offset)
                }
            }
        }
        return VideoClip(unchecked: clip.frameCount, height: outHeight, width: outWidth, pixels: pixels)
    }
}

/// For each output pixel: the four input samples around its source point and
/// the bilinear weights, computed once per clip.
private struct SamplingMap {
    let corners: [Int32]  // 4 per output pixel: sample offsets of (x0,y0), (x1,y0), (x0,y1), (x1,y1)
    let weights: [Float]  // 2 per output pixel: wx, wy
    let pixelCount: Int

    init(inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int,
         parameters p: ClipAugmentation.Parameters, translation: Double) {
        pixelCount = outputWidth * outputHeight
        let zoom = p.zoom
        // Room to move: the part of the input the zoomed window does not
        // cover, plus the allowed translation.
        let roomX = max(0, (Double(inputWidth) - Double(outputWidth) / zoom) / 2) + translation * Double(outputWidth)
        let roomY = max(0, (Double(inputHeight) - Double(outputHeight) / zoom) / 2) + translation * Double(outputHeight)
        let centreX = Double(inputWidth - 1) / 2 + p.shiftX * roomX
        let centreY = Double(inputHeight - 1) / 2 + p.shiftY * roomY
        let turn = PortableMath.sinCos(p.rotation * Double.pi / 180)
        let cosA = turn.cos / zoom, sinA = turn.sin / zoom
        var corners = [Int32](repeating: 0, count: 4 * pixelCount)
        var weights = [Float](repeating: 0, count: 2 * pixelCount)
        let maxX = inputWidth - 1, maxY = inputHeight - 1
        for oy in 0..<outputHeight {
            let dy = Double(oy) - Double(outputHeight - 1) / 2
            for ox in 0..<outputWidth {
                let dx = Double(p.flip ? outputWidth - 1 - ox : ox) - Double(outputWidth - 1) / 2
                // Turning the output clockwise means sampling the input turned back.
                let sx = centreX + cosA * dx + sinA * dy
                let sy = centreY - sinA * dx + cosA * dy
                let fx = sx.rounded(.down), fy = sy.rounded(.down)
                let x0 = min(max(Int(fx), 0), maxX), x1 = min(max(Int(fx) + 1, 0), maxX)
                let y0 = min(max(Int(fy), 0), maxY), y1 = min(max(Int(fy) + 1, 0), maxY)
                let i = oy * outputWidth + ox
                corners[4 * i] = Int32((y0 * inputWidth + x0) * 3)
                corners[4 * i + 1] = Int32((y0 * inputWidth + x1) * 3)
                corners[4 * i + 2] = Int32((y1 * inputWidth + x0) * 3)
                corners[4 * i + 3] = Int32((y1 * inputWidth + x1) * 3)
                weights[2 * i] = Float(min(max(sx - fx, 0), 1))
                weights[2 * i + 1] = Float(min(max(sy - fy, 0), 1))
            }
        }
        self.corners = corners
        self.weights = weights
    }

    /// Samples one frame, then maps each value v to `v * scale + offset`, rounded and clamped.
    func sample(_ input: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>, scale: Float, offset: Float) {
        corners.withUnsafeBufferPointer { corners in
            weights.withUnsafeBufferPointer { weights in
                for i in 0..<pixelCount {
                    let a = input + Int(corners[4 * i]), b = input + Int(corners[4 * i + 1])
                    let c = input + Int(corners[4 * i + 2]), d = input + Int(corners[4 * i + 3])
                    let wx = weights[2 * i], wy = weights[2 * i + 1]
                    for k in 0..<3 {
                        let top = Float(a[k]) + (Float(b[k]) - Float(a[k])) * wx
                        let bottom = Float(c[k]) + (Float(d[k]) - Float(c[k])) * wx
                        let value = (top + (bottom - top) * wy) * scale + offset
                        output[3 * i + k] = UInt8(min(max(value, 0), 255) + 0.5)
                    }
                }
            }
        }
    }
}
