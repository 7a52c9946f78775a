/// The motion an object performs in a synthetic clip; in motion mode, its class.
public enum SyntheticMotion: Int, CaseIterable, CustomStringConvertible {
    case shiftLeft, shiftRight, shiftUp, shiftDown
    case rotateClockwise, rotateCounterclockwise
    case grow, shrink
    case flicker, still

    /// The class name, in snake_case.
    public var description: String {
        switch self {
        case .shiftLeft: return "shift_left"
        case .shiftRight: return "shift_right"
        case .shiftUp: return "shift_up"
        case .shiftDown: return "shift_down"
        case .rotateClockwise: return "rotate_cw"
        case .rotateCounterclockwise: return "rotate_ccw"
        case .grow: return "grow"
        case .shrink: return "shrink"
        case .flicker: return "flicker"
        case .still: return "still"
        }
    }

    /// The motion that looks the same played backwards.
    public var reversed: SyntheticMotion {
        switch self {
        case .shiftLeft: return .shiftRight
        case .shiftRight: return .shiftLeft
        case .shiftUp: return .shiftDown
        case .shiftDown: return .shiftUp
        case .rotateClockwise: return .rotateCounterclockwise
        case .rotateCounterclockwise: return .rotateClockwise
        case .grow: return .shrink
        case .shrink: return .grow
        case .flicker, .still: return self
        }
    }
}

/// The outline of a synthetic object.
public enum SyntheticShape: Int, CaseIterable, CustomStringConvertible {
    case disc, square, triangle, ring, cross, star

    public var description: String { ["disc", "square", "triangle", "ring", "cross", "star"][rawValue] }

    /// Signed distance from the outline in object units (the shape fits the
    /// unit disc, give or take its corners); negative inside.
    @inline(__always)
    func distance(_ u: Float, _ v: Float) -> Float {
        switch self {
        case .disc:
            return (u * u + v * v).squareRoot() - 1
        case .square:
            return Self.box(u, v, 0.8, 0.8)
        case .triangle:
            // Equilateral, circumradius 1, apex up (screen y grows downwards).
            let k: Float = 1.732_050_8
            let r: Float = 0.866_025_4
            var px = abs(u) - r
            var py = -v + r / k
            if px + k * py > 0 {
                (px, py) = ((px - k * py) / 2, (-k * px - py) / 2)
            }
            px -= min(max(px, -2 * r), 0)
            let length = (px * px + py * py).squareRoot()
            return py > 0 ? -length : length
        case .ring:
            return abs((u * u + v * v).squareRoot() - 0.75) - 0.25
        case .cross:
            return min(Self.box(u, v, 0.95, 0.32), Self.box(u, v, 0.32, 0.95))
        case .star:
            return Self.star(u, v)
        }
    }

    /// Signed distance to an axis-aligned box of half-sizes `a`, `b`.
    @inline(__always)
    private static func box(_ u: Float, _ v: Float, _ a: Float, _ b: Float) -> Float {
        let dx = abs(u) - a
        let dy = abs(v) - b
        let ox = max(dx, 0)
        let oy = max(dy, 0)
        return (ox * ox + oy * oy).squareRoot() + min(max(dx, dy), 0)
    }

    /// Signed distance to a five-pointed star of outer radius 1, found by
    /// folding the plane into the wedge of one tip.
    @inline(__always)
    private static func star(_ u: Float, _ v: Float) -> Float {
        let k1x: Float = 0.809_017, k1y: Float = -0.587_785
        let k2x: Float = -k1x, k2y: Float = k1y
        var px = abs(u)
        var py = -v
        var d = max(k1x * px + k1y * py, 0)
        px -= 2 * d * k1x
        py -= 2 * d * k1y
        d = max(k2x * px + k2y * py, 0)
        px -= 2 * d * k2x
        py -= 2 * d * k2y
        px = abs(px)
        py -= 1
        let inner: Float = 0.45
        let bax = inner * -k1y
        let bay = inner * k1x - 1
        let h = min(max((px * bax + py * bay) / (bax * bax + bay * bay), 0), 1)
        let ex = px - bax * h
        let ey = py - bay * h
        let length = (ex * ex + ey * ey).squareRoot()
        return py * bax - px * bay < 0 ? -length : length
    }
}

/// The family of patterns on a synthetic object's surface.
public enum SyntheticTexture: Int, CaseIterable, CustomStringConvertible {
    case stripes, checker, spots

    public var description: String { ["stripes", "checker", "spots"][rawValue] }
}

/// Everything drawn at random for one synthetic clip. Its methods give the
/// object's state at any frame, so tests and tools can check what is drawn.
public struct SyntheticScene: Equatable {
    /// Where, how large, how turned and how bright an object is in one frame.
    public struct ObjectState: Equatable {
        /// Centre, in pixels from the top-left corner.
        public var x, y: Double
        /// Radius in pixels.
        public var radius: Double
        /// Rotation in radians, clockwise on screen.
        public var angle: Double
        /// Brightness factor (1 = unchanged).
        public var brightness: Double
    }

    /// A small object fixed to the background, moving with its drift.
    struct Distractor: Equatable {
        var shape: SyntheticShape
        var texture: SyntheticTexture
        var variant: Int
        var x, y, radius, angle: Double
        var colorA, colorB: [Float]
    }

    /// The object's motion.
    public let motion: SyntheticMotion
    /// The object's outline.
    public let shape: SyntheticShape
    /// The object's pattern family.
    public let texture: SyntheticTexture
    /// Frames in the clip.
    public let frameCount: Int

    // Object.
    let textureVariant: Int
    let colorA, colorB: [Float]
    let centreX, centreY: Double
    let velocityX, velocityY: Double
    let radius: Double
    let growth: Double
    let angle0: Double
    let angularVelocity: Double
    let flickerAmplitude: Double
    let flickerHalfPeriod: Int
    let flickerPhase: Int
    // Background and camera.
    let backgroundTile: Int
    let backgroundScale: Double
    let backgroundX, backgroundY: Double
    let driftX, driftY: Double
    let gainDrift: Double
    let noiseSigma: Double
    let distractors: [Distractor]

    /// Time from the middle of the clip: paths are symmetric about the middle,
    /// so a frame taken alone does not tell a motion from its reverse.
    @inline(__always)
    func centredTime(_ frame: Int) -> Double { Double(frame) - Double(frameCount - 1) / 2 }

    /// The object's state in frame `frame`.
    public func objectState(atFrame frame: Int) -> ObjectState {
        let t = centredTime(frame)
        let flicker: Double
        if flickerAmplitude > 0 {
            flicker = ((frame + flickerPhase) / flickerHalfPeriod) % 2 == 0 ? flickerAmplitude : -flickerAmplitude
        } else {
            flicker = 0
        }
        return ObjectState(x: centreX + velocityX * t, y: centreY + velocityY * t,
                           radius: radius * PortableMath.power(growth, t),
                           angle: angle0 + angularVelocity * t, brightness: 1 + flicker)
    }

    /// The background's offset (in texels) in frame `frame`.
    func backgroundOffset(atFrame frame: Int) -> (x: Double, y: Double) {
        (backgroundX + driftX * Double(frame), backgroundY + driftY * Double(frame))
    }
}
