/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64)
/// whose output is the same on every machine. All randomness in this target
/// comes from it, so a seed fixes every clip, label and augmentation.
public struct SeededRandom: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    /// Creates a generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededRandom.splitMix(&sm)
        s1 = SeededRandom.splitMix(&sm)
        s2 = SeededRandom.splitMix(&sm)
        s3 = SeededRandom.splitMix(&sm)
    }

    /// Creates an independent generator for item `index` of a stream seeded by `seed`.
    /// Items can be generated in any order, on any thread, with the same result.
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: SeededRandom.mix(seed, index))
    }

    /// A well-mixed combination of two values (used to derive sub-seeds).
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var x = a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
        return splitMix(&x)
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform `Double` in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform `Double` in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// A uniform integer in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "SeededRandom.below: bound must be positive")
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// `true` with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// The elements of `0..<count` in a random order (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            order.swapAt(i, below(i + 1))
            i -= 1
        }
        return order
    }
}

/// Sine and cosine from basic IEEE operations only, so that results do not
/// depend on the platform's math library.
enum PortableMath {
    /// `(sin x, cos x)` to about 1e-15 relative.
    static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        let halfPi = Double.pi / 2
        // Reduce to r in [-pi/4, pi/4] with x = k*pi/2 + r.
        let k = (x / halfPi).rounded(.toNearestOrEven)
        let r = x - k * halfPi
        let r2 = r * r
        var s = -1.0 / 1_307_674_368_000  // -1/15!
        var c = -1.0 / 87_178_291_200  // -1/14!
        s = s * r2 + 1.0 / 6_227_020_800
        c = c * r2 + 1.0 / 479_001_600
        s = s * r2 - 1.0 / 39_916_800
        c = c * r2 - 1.0 / 3_628_800
        s = s * r2 + 1.0 / 362_880
        c = c * r2 + 1.0 / 40_320
        s = s * r2 - 1.0 / 5_040
        c = c * r2 - 1.0 / 720
        s = s * r2 + 1.0 / 120
        c = c * r2 + 1.0 / 24
        s = s * r2 - 1.0 / 6
        c = c * r2 - 1.0 / 2
        let sinR = r + r * r2 * s
        let cosR = 1 + r2 * c
        switch Int(k) & 3 {
        case 0: return (sinR, cosR)
        case 1: return (cosR, -sinR)
        case 2: return (-sinR, -cosR)
        default: return (-cosR, sinR)
        }
    }

    /// `base` raised to a real power, as exp(exponent * log(base)); `base` > 0.
    static func power(_ base: Double, _ exponent: Double) -> Double {
        exp(exponent * log(base))
    }

    /// Natural logarithm for x > 0 (argument reduction by powers of two, atanh series).
    static func log(_ x: Double) -> Double {
        var m = x
        var e = 0.0
        while m > 1.5 { m *= 0.5; e += 1 }
        while m < 0.75 { m *= 2; e -= 1 }
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var term = z
        var sum = 0.0
        var n = 1.0
        while n < 40 {
            sum += term / n
            term *= z2
            n += 2
        }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }

    /// e^x for moderate |x| (halving, Taylor series, squaring back).
    static func exp(_ x: Double) -> Double {
        var r = x
        var halvings = 0
        while abs(r) > 0.125 { r *= 0.5; halvings += 1 }
        var sum = 1.0
        var term = 1.0
        for n in 1...12 {
            term *= r / Double(n)
            sum += term
        }
        for _ in 0..<halvings { sum *= sum }
        return sum
    }
}
