/// A built-in action set of synthetic clips, made on the fly from a seed.
///
/// Every clip shows one textured object (disc, square, triangle, ring, cross
/// or star, in two random colours) over a textured background that drifts
/// slowly, with small distractor objects fixed to the background, a slow gain
/// change, and sensor noise. Speeds, sizes and colours are random.
///
/// - In ``Mode/motion`` the class is the object's motion (``SyntheticMotion``):
///   shift left/right/up/down, rotate clockwise/counter-clockwise, grow,
///   shrink, flicker, still. Paths are symmetric in time about the clip's
///   middle, so single frames, or frames without their order, do not tell a
///   motion from its reverse: the task needs temporal order.
/// - In ``Mode/appearance`` the class is the object's shape and texture family
///   (`disc_stripes`, `square_checker`, ...), which every frame shows; the
///   motion is random nuisance.
///
/// Clip `i` depends only on the configuration and `i`, on every machine: it
/// is drawn from its own seeded stream, so clips can be made in any order and
/// in parallel. Labels are `i % classCount`, so classes are balanced.
///
/// ```swift
/// let set = try SyntheticActionSet(.init(mode: .motion, classCount: 10, clipCount: 500, frameCount: 8, size: 32))
/// let item = set.clip(at: 0)           // LabeledClip, clip shape [8, 32, 32, 3]
/// ```
public struct SyntheticActionSet: ClipDataset {
    /// What the class label describes.
    public enum Mode: String, CaseIterable {
        /// The class is the motion; needs more than one frame.
        case motion
        /// The class is the object's shape and texture; one frame suffices.
        case appearance
    }

    /// The parameters of a synthetic set.
    public struct Configuration: Equatable {
        public var mode: Mode
        /// Number of classes, 2 up to ``SyntheticActionSet/classNames(for:)`` count.
        public var classCount: Int
        /// Number of clips.
        public var clipCount: Int
        /// Frames per clip, T.
        public var frameCount: Int
        /// Frame height in pixels (at least 16).
        public var height: Int
        /// Frame width in pixels (at least 16).
        public var width: Int
        /// The seed that fixes every clip.
        public var seed: UInt64
        /// Each clip has 0 up to this many distractor objects.
        public var maxDistractors: Int

        public init(mode: Mode = .motion, classCount: Int = 10, clipCount: Int = 1000, frameCount: Int = 8,
                    height: Int = 64, width: Int = 64, seed: UInt64 = 0, maxDistractors: Int = 2) {
            self.mode = mode
            self.classCount = classCount
            self.clipCount = clipCount
            self.frameCount = frameCount
            self.height = height
            self.width = width
            self.seed = seed
            self.maxDistractors = maxDistractors
        }

        /// A configuration with square `size x size` frames.
        public init(mode: Mode = .motion, classCount: Int = 10, clipCount: Int = 1000, frameCount: Int = 8,
                    size: Int, seed: UInt64 = 0) {
            self.init(mode: mode, classCount: classCount, clipCount: clipCount, frameCount: frameCount,
                      height: size, width: size, seed: seed)
        }
    }

    /// The configuration this set was made from.
    public let configuration: Configuration
    public let classNames: [String]

    /// Every class name `mode` offers, in label order; a set with `classCount`
    /// classes uses the first `classCount`.
    public static func classNames(for mode: Mode) -> [String] {
        switch mode {
        case .motion:
            return SyntheticMotion.allCases.map(\.description)
        case .appearance:
            return (0..<(SyntheticShape.allCases.count * SyntheticTexture.allCases.count)).map { label in
                let (shape, texture) = appearance(of: label)
                return "\(shape)_\(texture)"
            }
        }
    }

    /// Makes the set; clips are made on demand.
    /// - Throws: `invalidArgument` for sizes or counts out of range.
    public init(_ configuration: Configuration = Configuration()) throws {
        let available = Self.classNames(for: configuration.mode)
        guard (2...available.count).contains(configuration.classCount) else {
            throw VideoError.invalidArgument("\(configuration.mode) mode has 2...\(available.count) classes, "
                + "not \(configuration.classCount)")
        }
        guard configuration.clipCount >= 0 else {
            throw VideoError.invalidArgument("clip count \(configuration.clipCount) must be zero or more")
        }
        let minimumFrames = configuration.mode == .motion ? 2 : 1
        guard configuration.frameCount >= minimumFrames else {
            throw VideoError.invalidArgument("\(configuration.mode) clips need at least \(minimumFrames) frames, "
                + "not \(configuration.frameCount)")
        }
        guard configuration.height >= 16, configuration.width >= 16,
              configuration.height <= 4096, configuration.width <= 4096 else {
            throw VideoError.invalidArgument("frame size \(configuration.width)x\(configuration.height) "
                + "is outside 16...4096")
        }
        guard configuration.maxDistractors >= 0 else {
            throw VideoError.invalidArgument("distractor count \(configuration.maxDistractors) must be zero or more")
        }
        self.configuration = configuration
        self.classNames = Array(available.prefix(configuration.classCount))
    }

    public var count: Int { configuration.clipCount }

    /// The label of clip `index`.
    public func label(at index: Int) -> Int { index % configuration.classCount }

    /// The randomly drawn content of clip `index`.
    public func scene(at index: Int) -> SyntheticScene {
        var random = randomStream(index)
        return drawScene(label: label(at: index), random: &random)
    }

    /// Clip `index` with its label.
    public func clip(at index: Int) -> LabeledClip {
        precondition(index >= 0 && index < count, "SyntheticActionSet: clip \(index) out of 0..<\(count)")
        var random = randomStream(index)
        let scene = drawScene(label: label(at: index), random: &random)
        let c = configuration
        var pixels = [UInt8](repeating: 0, count: c.frameCount * c.height * c.width * VideoClip.channels)
        let renderer = SyntheticRenderer(bank: .shared, height: c.height, width: c.width)
        pixels.withUnsafeMutableBufferPointer { renderer.render(scene, random: &random, into: $0.baseAddress!) }
        let clip = VideoClip(unchecked: c.frameCount, height: c.height, width: c.width, pixels: pixels)
        return LabeledClip(clip: clip, label: label(at: index))
    }

    /// Clip `index`; the set is fixed by its own seed, so `seed` is not used.
    public func clip(at index: Int, seed: UInt64) -> LabeledClip { clip(at: index) }

    private func randomStream(_ index: Int) -> SeededRandom {
        SeededRandom(seed: configuration.seed, stream: UInt64(index))
    }

    /// The shape and texture of appearance class `label`: shapes cycle fastest,
    /// and each pass through the shapes shifts the texture, so that every class
    /// differs from every other in shape, texture or both.
    private static func appearance(of label: Int) -> (SyntheticShape, SyntheticTexture) {
        let shapes = SyntheticShape.allCases.count
        let textures = SyntheticTexture.allCases.count
        return (SyntheticShape(rawValue: label % shapes)!,
                SyntheticTexture(rawValue: (label % shapes + label / shapes) % textures)!)
    }

    // MARK: Drawing a scene

    private func drawScene(label: Int, random: inout SeededRandom) -> SyntheticScene {
        let c = configuration
        let width = Double(c.width), height = Double(c.height)
        let size = min(width, height)
        let steps = Double(max(c.frameCount - 1, 1))

        let motion: SyntheticMotion
        let shape: SyntheticShape
        let texture: SyntheticTexture
        switch c.mode {
        case .motion:
            motion = SyntheticMotion(rawValue: label)!
            shape = SyntheticShape(rawValue: random.below(SyntheticShape.allCases.count))!
            texture = SyntheticTexture(rawValue: random.below(SyntheticTexture.allCases.count))!
        case .appearance:
            (shape, texture) = Self.appearance(of: label)
            motion = SyntheticMotion(rawValue: random.below(SyntheticMotion.allCases.count))!
        }
        let variant = random.below(SyntheticTextureBank.variantsPerTexture)
        let (colorA, colorB) = Self.colorPair(&random)
        let radius = size * random.uniform(0.17...0.26)

        // Motion parameters, capped so the whole clip stays plausible.
        let speed = min(size * random.uniform(0.03...0.06), 0.5 * size / steps)
        var velocity = (x: 0.0, y: 0.0)
        switch motion {
        case .shiftLeft: velocity.x = -speed
        case .shiftRight: velocity.x = speed
        case .shiftUp: velocity.y = -speed
        case .shiftDown: velocity.y = speed
        default: break
        }
        let turn = min(random.uniform(0.12...0.26), 2.8 / steps)
        let angularVelocity = motion == .rotateClockwise ? turn : motion == .rotateCounterclockwise ? -turn : 0
        let expansion = min(random.uniform(1.06...1.12), PortableMath.power(2.5, 1 / steps))
        let growth = motion == .grow ? expansion : motion == .shrink ? 1 / expansion : 1
        let flickerAmplitude = motion == .flicker ? random.uniform(0.25...0.45) : 0
        let flickerHalfPeriod = 1 + random.below(2)
        let flickerPhase = random.below(2 * flickerHalfPeriod)

        // The path's middle: anywhere that keeps most of the object in view all along.
        let largestRadius = radius * PortableMath.power(max(growth, 1 / growth), steps / 2)
        func middle(_ extent: Double, _ velocity: Double) -> Double {
            let margin = 0.8 * largestRadius + abs(velocity) * steps / 2
            return margin < extent / 2 ? random.uniform(margin...(extent - margin)) : extent / 2
        }
        let centreX = middle(width, velocity.x)
        let centreY = middle(height, velocity.y)
        let angle0 = random.uniform(0...(2 * Double.pi))

        // Background, camera and sensor.
        let tiles = SyntheticTextureBank.backgroundCount, tileSize = Double(SyntheticTextureBank.backgroundSize)
        let backgroundTile = random.below(tiles)
        let backgroundScale = random.uniform(0.6...1.4)
        let backgroundX = random.uniform(0...tileSize), backgroundY = random.uniform(0...tileSize)
        let drift = PortableMath.sinCos(random.uniform(0...(2 * Double.pi)))
        let driftSpeed = random.uniform(0.1...0.6)
        let gainDrift = random.uniform(-0.004...0.004)
        let noiseSigma = random.uniform(0.6...2.0)

        let distractors = (0..<random.below(c.maxDistractors + 1)).map { _ -> SyntheticScene.Distractor in
            let (a, b) = Self.colorPair(&random)
            return SyntheticScene.Distractor(
                shape: SyntheticShape(rawValue: random.below(SyntheticShape.allCases.count))!,
                texture: SyntheticTexture(rawValue: random.below(SyntheticTexture.allCases.count))!,
                variant: random.below(SyntheticTextureBank.variantsPerTexture),
                x: random.uniform(0...width), y: random.uniform(0...height),
                radius: radius * random.uniform(0.3...0.5), angle: random.uniform(0...(2 * Double.pi)),
                colorA: a, colorB: b)
        }

        return SyntheticScene(
            motion: motion, shape: shape, texture: texture, frameCount: c.frameCount,
            textureVariant: variant, colorA: colorA, colorB: colorB,
            centreX: centreX, centreY: centreY, velocityX: velocity.x, velocityY: velocity.y,
            radius: radius, growth: growth, angle0: angle0, angularVelocity: angularVelocity,
            flickerAmplitude: flickerAmplitude, flickerHalfPeriod: flickerHalfPeriod, flickerPhase: flickerPhase,
            backgroundTile: backgroundTile, backgroundScale: backgroundScale,
            backgroundX: backgroundX, backgroundY: backgroundY,
            driftX: drift.cos * driftSpeed, driftY: drift.sin * driftSpeed,
            gainDrift: gainDrift, noiseSigma: noiseSigma, distractors: distractors)
    }

    /// Two random vivid colours (each channel dark or bright, unlike the
    /// mid-range backgrounds) whose luminances differ enough for the pattern to show.
    private static func colorPair(_ random: inout SeededRandom) -> ([Float], [Float]) {
        func color() -> [Float] {
            (0..<3).map { _ in Float(random.chance(0.5) ? random.uniform(0...70) : random.uniform(185...255)) }
        }
        func luminance(_ c: [Float]) -> Float { 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] }
        let a = color()
        for _ in 0..<8 {
            let b = color()
            if abs(luminance(a) - luminance(b)) >= 70 { return (a, b) }
        }
        return (a, luminance(a) < 128 ? [255, 255, 255] : [0, 0, 0])
    }
}
