/// Statistics of the absolute change of each 8-bit sample (one colour channel
/// of one pixel) from one frame to the next, on the 0–255 scale.
///
/// Real footage changes most samples a little (noise, lighting, slow camera
/// motion) and a few a lot (moving edges); this measures how close a source
/// comes to that. Accumulate over many clips with ``add(_:)``.
public struct FrameChangeStatistics: Equatable {
    /// `histogram[d]` counts samples whose change is `d` (0...255).
    public private(set) var histogram = [Int](repeating: 0, count: 256)

    public init() {}

    /// The statistics of the consecutive frame pairs of `clip`.
    public init(_ clip: VideoClip) {
        add(clip)
    }

    /// Adds the changes between consecutive frames of `clip`.
    public mutating func add(_ clip: VideoClip) {
        guard clip.frameCount > 1 else { return }
        let frameSize = clip.frameSize
        clip.pixels.withUnsafeBufferPointer { samples in
            for frame in 1..<clip.frameCount {
                add(previous: samples.baseAddress! + (frame - 1) * frameSize,
                    current: samples.baseAddress! + frame * frameSize, count: frameSize)
            }
        }
    }

    /// Adds the changes from `previous` to `current`, two frames of `count` samples.
    public mutating func add(previous: UnsafePointer<UInt8>, current: UnsafePointer<UInt8>, count: Int) {
        histogram.withUnsafeMutableBufferPointer { bins in
            for i in 0..<count {
                let change = Int(current[i]) - Int(previous[i])
                bins[change < 0 ? -change : change] += 1
            }
        }
    }

    /// Adds another accumulation.
    public mutating func merge(_ other: FrameChangeStatistics) {
        for d in 0..<256 { histogram[d] += other.histogram[d] }
    }

    /// The number of sample changes counted.
    public var count: Int { histogram.reduce(0, +) }

    /// The mean absolute change, mean |Δ|.
    public var meanChange: Double {
        let total = count
        guard total > 0 else { return 0 }
        return Double(histogram.enumerated().reduce(0) { $0 + $1.offset * $1.element }) / Double(total)
    }

    /// The fraction of changes with |Δ| < `threshold`.
    public func fraction(below threshold: Int) -> Double {
        let total = count
        guard total > 0 else { return 0 }
        return Double(histogram.prefix(max(0, min(threshold, 256))).reduce(0, +)) / Double(total)
    }

    /// The fraction of changes with |Δ| > `threshold`.
    public func fraction(above threshold: Int) -> Double {
        let total = count
        guard total > 0 else { return 0 }
        return Double(histogram.suffix(max(0, min(255 - threshold, 256))).reduce(0, +)) / Double(total)
    }

    /// The smallest change d such that at least `p` (0...1) of all changes are ≤ d.
    public func percentile(_ p: Double) -> Int {
        let total = count
        guard total > 0 else { return 0 }
        let needed = max(1, Int((p * Double(total)).rounded(.up)))
        var seen = 0
        for (d, n) in histogram.enumerated() {
            seen += n
            if seen >= needed { return d }
        }
        return 255
    }

    /// The column titles of ``tableRow(_:)``, as a Markdown table header.
    public static let tableHeader = """
        | source | mean abs change | < 2 | < 8 | > 32 | > 64 | p50 | p90 | p99 |
        |---|---|---|---|---|---|---|---|---|
        """

    /// One Markdown table row: `name`, then the statistics (fractions as percentages).
    public func tableRow(_ name: String) -> String {
        func percent(_ x: Double) -> String {
            let tenths = Int((x * 1000).rounded())
            return "\(tenths / 10).\(tenths % 10)%"
        }
        let mean = Int((meanChange * 100).rounded())
        let meanText = "\(mean / 100).\(mean % 100 < 10 ? "0" : "")\(mean % 100)"
        return "| \(name) | \(meanText) | \(percent(fraction(below: 2))) | \(percent(fraction(below: 8))) | "
            + "\(percent(fraction(above: 32))) | \(percent(fraction(above: 64))) | "
            + "\(percentile(0.5)) | \(percentile(0.9)) | \(percentile(0.99)) |"
    }
}
