import Foundation

/// A seeded pseudo-random generator (SplitMix64 seeding xoshiro256**), the
/// same sequence on every machine. Used by initializers, dropout and shuffling.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The four words of state, to save a sequence and continue it exactly later.
    public var state: [UInt64] {
        get { [s.0, s.1, s.2, s.3] }
        set {
            precondition(newValue.count == 4, "SeededGenerator state has 4 words, got \(newValue.count)")
            s = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in `[0, 1)` with 24 bits of precision.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Standard normal by the Box–Muller transform.
    public mutating func nextNormal() -> Float {
        var u1 = nextUnitFloat()
        while u1 == 0 { u1 = nextUnitFloat() }
        let u2 = nextUnitFloat()
        return Foundation.sqrt(-2 * Foundation.log(u1)) * Foundation.cos(2 * .pi * u2)
    }
}

extension Tensor {
    /// Uniform values in `[minval, maxval)`.
    public static func randomUniform(_ shape: [Int], minval: Float = 0, maxval: Float = 1,
                                     generator: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in minval + (maxval - minval) * generator.nextUnitFloat() })
    }

    /// Normal values with the given mean and standard deviation.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, stddev: Float = 1,
                                    generator: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in mean + stddev * generator.nextNormal() })
    }

    /// Normal values redrawn until within two standard deviations of the mean,
    /// as `keras.random.truncated_normal`.
    public static func truncatedNormal(_ shape: [Int], mean: Float = 0, stddev: Float = 1,
                                       generator: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in
            var z = generator.nextNormal()
            while Swift.abs(z) > 2 { z = generator.nextNormal() }
            return mean + stddev * z
        })
    }
}
