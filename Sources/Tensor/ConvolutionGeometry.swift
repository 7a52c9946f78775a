// Shape arithmetic shared by convolution, depthwise convolution and pooling.
// Every op works on three spatial axes (depth, height, width): 1-D and 2-D
// tensors get leading axes of length 1, so one kernel serves all ranks.

/// Extents along the three spatial axes.
struct Extent3: Equatable {
    var d: Int, h: Int, w: Int

    /// Right-aligns 1–3 spatial values, filling the missing leading axes.
    init(_ values: [Int], fill: Int) {
        let v = [Int](repeating: fill, count: 3 - values.count) + values
        (d, h, w) = (v[0], v[1], v[2])
    }

    init(d: Int, h: Int, w: Int) { (self.d, self.h, self.w) = (d, h, w) }

    var product: Int { d * h * w }
    /// The trailing `rank` values, in public (unpadded) order.
    func suffix(_ rank: Int) -> [Int] { Array([d, h, w].suffix(rank)) }
}

/// The geometry of a sliding window over a channels-last tensor
/// `[batch, spatial..., channels]` with 1–3 spatial axes.
///
/// A *line* is one row of pixels along the width axis: output line
/// `(n, od, oh)` has index `(n · D' + od) · H' + oh` and holds `W'` pixels.
struct WindowGeometry {
    /// Number of spatial axes in the public shapes (1, 2 or 3).
    let spatialRank: Int
    let batch: Int
    /// Channels of the input.
    let channels: Int
    let input: Extent3
    /// Taps of the window per axis (kernel or pool size).
    let window: Extent3
    let strides: Extent3
    let dilations: Extent3
    /// Implicit zeros before the input per axis.
    let padBefore: Extent3
    let output: Extent3

    /// Validates and derives the geometry of `op` on an input of `inputShape`.
    /// `strides` and `dilations` hold one value for all axes or one per axis.
    /// `zeroPadding` adds zeros `(before, after)` around each spatial axis
    /// first, as a separate pad op would; `padding` then applies to the padded size.
    init(op: String, inputShape: [Int], window: [Int], strides: [Int], dilations: [Int],
         padding: Padding, zeroPadding: [(Int, Int)]? = nil) throws {
        let rank = inputShape.count - 2
        guard (1...3).contains(rank) else {
            throw TensorError.invalidShape(
                "\(op): input must be [batch, spatial..., channels] with 1–3 spatial axes, got shape \(inputShape)")
        }
        guard window.count == rank, window.allSatisfy({ $0 >= 1 }) else {
            throw TensorError.invalidArgument("\(op): window \(window) must have \(rank) positive sizes for input \(inputShape)")
        }
        guard padding != .causal || rank == 1 else {
            throw TensorError.invalidArgument("\(op): causal padding needs 1 spatial axis, input has \(rank) (shape \(inputShape))")
        }
        if let zeroPadding, zeroPadding.count != rank || zeroPadding.contains(where: { $0.0 < 0 || $0.1 < 0 }) {
            throw TensorError.invalidArgument("\(op): zero padding \(zeroPadding) must hold \(rank) non-negative (before, after) pairs")
        }
        let strides = try WindowGeometry.perAxis(strides, "strides", rank: rank, op: op)
        let dilations = try WindowGeometry.perAxis(dilations, "dilation", rank: rank, op: op)
        let spatial = Array(inputShape[1...rank])
        var before = [Int](), output = [Int]()
        for i in 0..<rank {
            let extent = (window[i] - 1) * dilations[i] + 1
            let (zeroBefore, zeroAfter) = zeroPadding?[i] ?? (0, 0)
            let padded = spatial[i] + zeroBefore + zeroAfter
            let (pad, size) = padding.amounts(size: padded, window: extent, stride: strides[i])
            guard size > 0 || padded == 0 else {
                throw TensorError.invalidShape(
                    "\(op): window of extent \(extent) on spatial axis \(i) does not fit input size \(padded) "
                    + "with \(padding) padding (input \(inputShape), window \(window), dilation \(dilations))")
            }
            before.append(pad + zeroBefore)
            output.append(size)
        }
        spatialRank = rank
        batch = inputShape[0]
        channels = inputShape[rank + 1]
        input = Extent3(spatial, fill: 1)
        self.window = Extent3(window, fill: 1)
        self.strides = Extent3(strides, fill: 1)
        self.dilations = Extent3(dilations, fill: 1)
        padBefore = Extent3(before, fill: 0)
        self.output = Extent3(output, fill: 1)
    }

    /// Expands a per-axis parameter given as one value or one per axis.
    static func perAxis(_ values: [Int], _ name: String, rank: Int, op: String) throws -> [Int] {
        guard values.count == 1 || values.count == rank else {
            throw TensorError.invalidArgument("\(op): \(name) \(values) must have 1 or \(rank) entries")
        }
        guard values.allSatisfy({ $0 >= 1 }) else {
            throw TensorError.invalidArgument("\(op): \(name) must be positive, got \(values)")
        }
        return values.count == rank ? values : [Int](repeating: values[0], count: rank)
    }

    /// The public input shape.
    var inputShape: [Int] { [batch] + input.suffix(spatialRank) + [channels] }
    /// The public output shape with `channels` output channels.
    func outputShape(channels: Int) -> [Int] { [batch] + output.suffix(spatialRank) + [channels] }

    var outputLines: Int { batch * output.d * output.h }
    var inputLines: Int { batch * input.d * input.h }

    /// `(n, od, oh)` of output line `line`.
    @inline(__always)
    func outputCoordinates(_ line: Int) -> (n: Int, d: Int, h: Int) {
        let plane = line / output.h
        return (plane / output.d, plane % output.d, line % output.h)
    }

    /// `(n, id, ih)` of input line `line`.
    @inline(__always)
    func inputCoordinates(_ line: Int) -> (n: Int, d: Int, h: Int) {
        let plane = line / input.h
        return (plane / input.d, plane % input.d, line % input.h)
    }

    /// The window of output pixel `x` of output line `line`: which taps fall
    /// inside the input and where tap 0 sits.
    @inline(__always)
    func window(line: Int, x: Int) -> PixelWindow {
        let (n, od, oh) = outputCoordinates(line)
        let d0 = od * strides.d - padBefore.d, h0 = oh * strides.h - padBefore.h, w0 = x * strides.w - padBefore.w
        return PixelWindow(
            image: n, origin: Extent3(d: d0, h: h0, w: w0),
            d: WindowGeometry.validTaps(start: d0, taps: window.d, dilation: dilations.d, size: input.d),
            h: WindowGeometry.validTaps(start: h0, taps: window.h, dilation: dilations.h, size: input.h),
            w: WindowGeometry.validTaps(start: w0, taps: window.w, dilation: dilations.w, size: input.w))
    }

    /// The flat input pixel index of tap `(a, b, c)` of `win`.
    @inline(__always)
    func inputPixel(_ win: PixelWindow, _ a: Int, _ b: Int, _ c: Int) -> Int {
        ((win.image * input.d + win.origin.d + a * dilations.d) * input.h + win.origin.h + b * dilations.h) * input.w
            + win.origin.w + c * dilations.w
    }

    /// The flat window index of tap `(a, b, c)`.
    @inline(__always)
    func tap(_ a: Int, _ b: Int, _ c: Int) -> Int { (a * window.h + b) * window.w + c }

    /// Calls `body(outputPixel, tap, column)` for every window tap that reads
    /// input line `line`, where `column` is the input pixel's index in the line.
    @inline(__always)
    func forEachReader(ofInputLine line: Int, _ body: (Int, Int, Int) -> Void) {
        let (n, id, ih) = inputCoordinates(line)
        for a in 0..<window.d {
            guard let od = WindowGeometry.source(id, tap: a, stride: strides.d, dilation: dilations.d,
                                                 pad: padBefore.d, outputs: output.d) else { continue }
            for b in 0..<window.h {
                guard let oh = WindowGeometry.source(ih, tap: b, stride: strides.h, dilation: dilations.h,
                                                     pad: padBefore.h, outputs: output.h) else { continue }
                let firstPixel = ((n * output.d + od) * output.h + oh) * output.w
                for x in 0..<output.w {
                    let start = x * strides.w - padBefore.w
                    for c in WindowGeometry.validTaps(start: start, taps: window.w, dilation: dilations.w, size: input.w) {
                        body(firstPixel + x, tap(a, b, c), start + c * dilations.w)
                    }
                }
            }
        }
    }

    /// The output index `o` whose window tap `k` lands on input index `i`
    /// along one axis, or nil when none does.
    @inline(__always)
    static func source(_ i: Int, tap k: Int, stride: Int, dilation: Int, pad: Int, outputs: Int) -> Int? {
        let t = i + pad - k * dilation
        guard t >= 0, t % stride == 0, t / stride < outputs else { return nil }
        return t / stride
    }

    /// The taps `k` of a window starting at `start` whose positions
    /// `start + k · dilation` fall inside `0..<size`.
    @inline(__always)
    static func validTaps(start: Int, taps: Int, dilation: Int, size: Int) -> Range<Int> {
        let lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation
        let hi = size > start ? Swift.min(taps, (size - 1 - start) / dilation + 1) : 0
        return lo < hi ? lo..<hi : 0..<0
    }
}

/// The taps of one output pixel's window that fall inside the input.
struct PixelWindow {
    let image: Int
    /// Input coordinates of tap (0, 0, 0); negative inside the leading padding.
    let origin: Extent3
    /// Valid taps per axis.
    let d: Range<Int>, h: Range<Int>, w: Range<Int>
    /// Number of valid taps.
    var count: Int { d.count * h.count * w.count }
}

/// Adds `count` floats of `source` into `target`.
@inline(__always)
func accumulate(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { target[i] += source[i] }
}
