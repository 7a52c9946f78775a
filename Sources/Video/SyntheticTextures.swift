/// The library of background and object textures all synthetic sets draw
/// from, made once per process from a built-in seed (clips choose among them,
/// and choose offsets, scales, colours and drift, from their own seeds).
///
/// Backgrounds are periodic colour images, sampled with wrap-around; object
/// patterns are grey-level maps in 0...1 over the object's own coordinates,
/// later painted in two colours.
final class SyntheticTextureBank {
    /// The library every set uses.
    static let shared = SyntheticTextureBank(seed: 0x5EED_7E47)

    /// Side of a background tile in texels (a power of two, for wrapping by mask).
    static let backgroundSize = 128
    /// Number of background tiles.
    static let backgroundCount = 12
    /// Side of an object pattern in texels.
    static let patternSize = 32
    /// Object coordinates covered by a pattern: -patternExtent...patternExtent.
    static let patternExtent: Float = 1.25
    /// Patterns per texture family.
    static let variantsPerTexture = 6

    /// `backgroundCount` tiles of `backgroundSize² × 3` samples in 0...255.
    let backgrounds: [[Float]]
    /// Patterns indexed by `texture.rawValue * variantsPerTexture + variant`, `patternSize²` values each.
    let patterns: [[Float]]
    /// `noiseTableSize` samples of approximately Gaussian noise, mean 0 and
    /// variance 1; the renderer picks them with 12 random bits each.
    let noise: [Float]
    /// Entries in ``noise`` (a power of two).
    static let noiseTableSize = 4096

    private init(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        backgrounds = (0..<Self.backgroundCount).map { _ in Self.background(&random) }
        var patterns: [[Float]] = []
        for texture in SyntheticTexture.allCases {
            for _ in 0..<Self.variantsPerTexture { patterns.append(Self.pattern(texture, &random)) }
        }
        self.patterns = patterns
        noise = Self.gaussianTable(&random)
    }

    /// Sums of four uniforms (Irwin–Hall), shifted and scaled to mean 0 and variance 1 exactly.
    private static func gaussianTable(_ random: inout SeededRandom) -> [Float] {
        let raw = (0..<noiseTableSize).map { _ in (0..<4).reduce(0.0) { sum, _ in sum + random.unit() } }
        let mean = raw.reduce(0, +) / Double(noiseTableSize)
        let variance = raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(noiseTableSize)
        let scale = 1 / variance.squareRoot()
        return raw.map { Float(($0 - mean) * scale) }
    }

    /// The pattern for a texture family and variant.
    func pattern(_ texture: SyntheticTexture, variant: Int) -> [Float] {
        patterns[texture.rawValue * Self.variantsPerTexture + variant]
    }

    // MARK: Backgrounds

    /// A colour background: regions of three random colours with sharp
    /// boundaries (thresholded coarse noise, like the objects and walls of a
    /// scene), shaded by fine-grained detail noise.
    private static func background(_ random: inout SeededRandom) -> [Float] {
        let n = backgroundSize
        let regions = fractalNoise(size: n, octaves: [(4, 1.0), (8, 0.5), (16, 0.25)], &random)
        let detail = fractalNoise(size: n, octaves: [(16, 1.0), (32, 0.8), (64, 0.6), (128, 0.4)], &random)
        let colors = (0..<3).map { _ in (0..<3).map { _ in Float(random.uniform(60...190)) } }
        let thresholds = [Float(random.uniform(0.3...0.45)), Float(random.uniform(0.55...0.7))]
        let edge: Float = 0.03
        var tile = [Float](repeating: 0, count: n * n * 3)
        for i in 0..<(n * n) {
            let w1 = smooth(clamp01((regions[i] - thresholds[0] + edge) / (2 * edge)))
            let w2 = smooth(clamp01((regions[i] - thresholds[1] + edge) / (2 * edge)))
            let shade = 0.75 + 0.5 * detail[i]
            for c in 0..<3 {
                let base = colors[0][c] + (colors[1][c] - colors[0][c]) * w1
                tile[i * 3 + c] = (base + (colors[2][c] - base) * w2) * shade
            }
        }
        return tile
    }

    /// Periodic value noise on an `size × size` grid: for each (cells, weight),
    /// a lattice of `cells × cells` random values interpolated smoothly; the
    /// weighted sum is normalised to 0...1.
    private static func fractalNoise(size: Int, octaves: [(cells: Int, weight: Float)],
                                     _ random: inout SeededRandom) -> [Float] {
        var field = [Float](repeating: 0, count: size * size)
        for (cells, weight) in octaves {
            let lattice = (0..<(cells * cells)).map { _ in Float(random.unit()) }
            let step = Float(cells) / Float(size)
            for y in 0..<size {
                let fy = Float(y) * step
                let y0 = Int(fy)
                let ty = smooth(fy - Float(y0))
                let row0 = (y0 % cells) * cells
                let row1 = ((y0 + 1) % cells) * cells
                for x in 0..<size {
                    let fx = Float(x) * step
                    let x0 = Int(fx)
                    let tx = smooth(fx - Float(x0))
                    let x1 = (x0 + 1) % cells
                    let top = lattice[row0 + x0 % cells] + (lattice[row0 + x1] - lattice[row0 + x0 % cells]) * tx
                    let bottom = lattice[row1 + x0 % cells] + (lattice[row1 + x1] - lattice[row1 + x0 % cells]) * tx
                    field[y * size + x] += weight * (top + (bottom - top) * ty)
                }
            }
        }
        let low = field.min() ?? 0
        let high = field.max() ?? 1
        let scale = high > low ? 1 / (high - low) : 0
        return field.map { ($0 - low) * scale }
    }

    @inline(__always)
    private static func smooth(_ t: Float) -> Float { t * t * (3 - 2 * t) }

    // MARK: Object patterns

    /// A grey-level pattern of one family with random frequency, orientation and phase.
    private static func pattern(_ texture: SyntheticTexture, _ random: inout SeededRandom) -> [Float] {
        let n = patternSize
        let orientation = PortableMath.sinCos(random.uniform(0...Double.pi))
        let (sinA, cosA) = (Float(orientation.sin), Float(orientation.cos))
        let twoPi = Float(2 * Double.pi)
        var values = [Float](repeating: 0, count: n * n)
        switch texture {
        case .stripes:
            let frequency = Float(random.uniform(1.2...2.2))
            let phase = Float(random.unit())
            for y in 0..<n {
                for x in 0..<n {
                    let (u, v) = coordinates(x, y)
                    let along = (u * cosA + v * sinA) * frequency + phase
                    values[y * n + x] = clamp01(0.5 + 1.4 * sine(twoPi * along))
                }
            }
        case .checker:
            let frequency = Float(random.uniform(0.9...1.6))
            for y in 0..<n {
                for x in 0..<n {
                    let (u, v) = coordinates(x, y)
                    let a = (u * cosA + v * sinA) * frequency
                    let b = (-u * sinA + v * cosA) * frequency
                    values[y * n + x] = clamp01(0.5 + 2 * sine(twoPi * a) * sine(twoPi * b))
                }
            }
        case .spots:
            // Dots on a jittered lattice of `cells` per unit.
            let cells = Float(random.uniform(1.4...2.2))
            let dotRadius = Float(random.uniform(0.2...0.3))
            let jitter = (0..<64).map { _ in (Float(random.uniform(-0.2...0.2)), Float(random.uniform(-0.2...0.2))) }
            for y in 0..<n {
                for x in 0..<n {
                    let (u, v) = coordinates(x, y)
                    let a = (u * cosA + v * sinA) * cells + 8
                    let b = (-u * sinA + v * cosA) * cells + 8
                    var nearest: Float = 2
                    for j in -1...1 {
                        for i in -1...1 {
                            let ci = Int(a) + i
                            let cj = Int(b) + j
                            let (jx, jy) = jitter[(ci & 7) * 8 + (cj & 7)]
                            let dx = a - (Float(ci) + 0.5 + jx)
                            let dy = b - (Float(cj) + 0.5 + jy)
                            nearest = min(nearest, (dx * dx + dy * dy).squareRoot())
                        }
                    }
                    values[y * n + x] = clamp01((dotRadius - nearest) * 12 + 0.5)
                }
            }
        }
        return values
    }

    /// Object coordinates of pattern texel (x, y).
    @inline(__always)
    private static func coordinates(_ x: Int, _ y: Int) -> (Float, Float) {
        let scale = 2 * patternExtent / Float(patternSize - 1)
        return (Float(x) * scale - patternExtent, Float(y) * scale - patternExtent)
    }

    @inline(__always)
    private static func sine(_ x: Float) -> Float { Float(PortableMath.sinCos(Double(x)).sin) }

    @inline(__always)
    private static func clamp01(_ x: Float) -> Float { min(max(x, 0), 1) }
}
