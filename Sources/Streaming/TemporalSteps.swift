import Layers
import Tensor

// Steps over the time axis of a clip model (an explicit time axis,
// `[batch, time, ...]`): the stream feeds its frames one at a time and the
// plan cuts them into clips of the model's length, as the clip forward does.

extension Slot {
    /// Makes this slot's value `other`'s, recording what changes (a delay line's shift).
    func take(_ other: Slot) {
        beginSparse()
        if other.all {
            previous.copy(from: value)
            value.copy(from: other.value)
            all = true
            return
        }
        let idx = other.changed.p, v = other.value.p
        for k in 0..<other.changed.count {
            let i = Int(idx[k])
            set(i, v[i])
        }
    }
}

/// `Conv3D` with temporal stride and dilation 1: output frame `t` is
/// `b + Σ_τ K[τ] ⊛ x[t + τ − p]` over the taps `τ` whose frame lies in the
/// clip (`p` frames of zero padding before it for `same`, none for `valid`).
///
/// Each tap keeps `K[τ] ⊛ x` of its own delayed copy of the input as a 2-D
/// convolution step and adds `K[τ] ⊛ Δx` as the input changes, so one changed
/// input element costs its `kt` kernel slices once, as in the clip forward.
/// Output `t` waits for input `t + kt − 1 − p` (the plan's latency); the
/// taps that read padding are left out of the sum, so a clip boundary costs
/// no extra multiply.
final class TemporalConvStep: Step, FusingStep {
    /// The 2-D convolution of each temporal tap (no bias; its input and output slots unused).
    let taps: [ConvStep]
    /// The bias, widened to double: the sum of the taps starts from it.
    let bias: [Double]
    var activation: Pointwise
    /// The step of every output element of a delta layer fused into this step, else nil.
    private(set) var fusedStep: [Float]?
    /// Frames of zero padding before a clip (0 for `valid`).
    let padBefore: Int
    let clipIn: Int, clipOut: Int
    let outputCount: Int

    init(name: String, input: Int, output: Int, activation: Pointwise, kernel: Tensor, bias: [Float],
         inShape: [Int], outShape: [Int], strides: [Int], dilation: [Int], padding: Padding, clipLength: Int) {
        let kt = kernel.shape[0], per = kernel.count / kt
        let slice = Array(kernel.shape.dropFirst())
        taps = (0..<kt).map { tau in
            ConvStep(name: "\(name)[\(tau)]", input: input, output: output, activation: .identity,
                     kernel: Tensor(shape: slice, scalars: Array(kernel.scalars[(tau * per)..<((tau + 1) * per)])),
                     bias: [Float](repeating: 0, count: outShape.last!), inShape: inShape, outShape: outShape,
                     strides: strides, dilation: dilation, padding: padding)
        }
        self.bias = bias.map { Double($0) }
        self.activation = activation
        padBefore = padding == .same ? (kt - 1) / 2 : 0
        clipIn = clipLength
        clipOut = padding == .same ? clipLength : clipLength - kt + 1
        outputCount = outShape.reduce(1, *)
        super.init(name: name, kind: "conv over time", inputs: [input], output: output)
    }

    /// A rectifier only: its taps' epilogue clamps.
    func takesActivation(_ f: Pointwise) -> Bool { activation.isIdentity && fusedStep == nil && f.isClamp }
    var takesDelta: Bool { activation.isClamp && fusedStep == nil }

    func keep(fusedSteps: [Float]) { fusedStep = fusedSteps }

    /// Frames an output waits for after its own input frame.
    var lag: Int { taps.count - 1 - padBefore }

    override var denseMACs: Int { taps.reduce(0) { $0 + $1.denseMACs } }
    override var macsPerInputElement: Double { taps.reduce(0) { $0 + $1.macsPerInputElement } }

    final class State {
        /// `delayed[d]`: the input `d` frames ago (`delayed[0]` mirrors the input).
        let delayed: [Slot]
        let taps: [LinearState]
        let sum: FloatBuffer
        /// Output positions to recompute in this frame.
        let positions: IndexBits
        /// The taps summed for the previous output frame.
        var lastValid: [Int] = []
        var received = 0

        init(_ step: TemporalConvStep) {
            delayed = step.taps.map { _ in Slot(step.taps[0].inputCount) }
            taps = step.taps.map { $0.makeState() as! LinearState }
            sum = FloatBuffer(step.outputCount)
            positions = IndexBits(step.outputCount / step.bias.count)
        }
    }

    override func makeState() -> AnyObject? { State(self) }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let s = state as! State
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let kt = taps.count
        for d in stride(from: kt - 1, to: 0, by: -1) { s.delayed[d].take(s.delayed[d - 1]) }
        s.delayed[0].take(x)
        let frame = s.received
        s.received += 1
        var anyDense = dense
        for (tau, tap) in taps.enumerated() {
            if try tap.accumulate(s.delayed[kt - 1 - tau], s.taps[tau], ctx, dense: dense) { anyDense = true }
        }
        // The output frame whose last tap reads this input frame, if any.
        let t: Int
        if padBefore > 0 || clipOut == clipIn {
            let o = frame - lag
            guard o >= 0 else { y.fresh = false; return }
            t = o % clipOut
        } else {
            let i = frame % clipIn
            guard i >= kt - 1 else { y.fresh = false; return }
            t = i - (kt - 1)
        }
        let valid = (0..<kt).filter { tau in (0..<clipIn).contains(t + tau - padBefore) }
        let whole = anyDense || valid != s.lastValid
        s.lastValid = valid
        y.beginSparse()
        let c = bias.count, sums = valid.map { s.taps[$0].wide }
        try bias.withUnsafeBufferPointer { b in
            try withFusedStep { q in
                let out = Output(bias: b.baseAddress!, taps: sums, sum: s.sum.p, step: q, y: y)
                if whole {
                    // A dense tap, or taps joining or leaving the sum at a clip boundary: every position.
                    for base in stride(from: 0, to: outputCount, by: c) { try emit(base, out) }
                    return
                }
                // Only the positions a summed tap touched can change, in increasing order.
                for tau in valid {
                    let ts = s.taps[tau]
                    for k in 0..<ts.touched.count { s.positions.insert(Int(ts.touched.p[k])) }
                }
                try s.positions.removeAll { p in try emit(p * c, out) }
            }
        }
        if fusedStep != nil { ctx.countDeltas(y) }
        if dense { y.all = true }
    }

    /// What ``emit(_:_:)`` reads and writes in one frame.
    private struct Output {
        let bias: UnsafePointer<Double>
        /// The accumulators of the taps in the sum.
        let taps: [UnsafeMutablePointer<Double>]
        let sum: UnsafeMutablePointer<Float>
        /// The fused delta layer's steps, if any.
        let step: UnsafePointer<Float>?
        let y: Slot
    }

    /// Sets the channels of the output position at `base` to the bias plus
    /// the summed taps, rectified (and quantized, with a fused delta layer), recording what changes.
    @inline(__always) private func emit(_ base: Int, _ o: Output) throws {
        let c = bias.count, acc = o.sum + base, end = base + c
        var k = 0
        while k + 4 <= c {
            var a = load4(o.bias + k)
            for w in o.taps { a += load4(w + base + k) }
            UnsafeMutableRawPointer(acc + k).storeBytes(of: SIMD4<Float>(a), as: SIMD4<Float>.self)
            k += 4
        }
        while k < c {
            var a = o.bias[k]
            for w in o.taps { a += w[base + k] }
            acc[k] = Float(a)
            k += 1
        }
        let y = o.y, sum = o.sum
        guard case .relu(let cap) = activation else {
            try activation.applyAll(acc, acc, count: c)
            for j in base..<end { y.set(j, o.step.map { quantize(sum[j], $0[j]) } ?? sum[j]) }
            return
        }
        // Clamp (and quantize) eight lanes at a time, as the linear steps do.
        let clamp: (low: Float, high: Float) = (0, cap)
        var j = base
        while j + 8 <= end {
            y.set8(j, clampAndQuantize(load8(sum + j), clamp, clamps: true, o.step.map { load8($0 + j) }))
            j += 8
        }
        while j < end {
            y.set(j, clampAndQuantize(sum[j], clamp, clamps: true, o.step?[j]))
            j += 1
        }
    }

    private func withFusedStep(_ body: (UnsafePointer<Float>?) throws -> Void) rethrows {
        if let fusedStep { try fusedStep.withUnsafeBufferPointer { try body($0.baseAddress!) } } else { try body(nil) }
    }
}

/// Global average pooling over time and space (`GlobalAveragePooling3D`, or
/// `GlobalAveragePooling1D` over time): keeps each frame's channel sums up to
/// date from the changes, and emits the clip's mean once its last frame is in.
final class ClipAverageStep: Step {
    let channels: Int, positions: Int, clipLength: Int

    init(name: String, input: Int, output: Int, channels: Int, positions: Int, clipLength: Int) {
        self.channels = channels
        self.positions = positions
        self.clipLength = clipLength
        super.init(name: name, kind: "global average pooling over time", inputs: [input], output: output)
    }

    final class State {
        var frameSums: [Double], clipSums: [Double]
        var frames = 0
        init(_ c: Int) { frameSums = [Double](repeating: 0, count: c); clipSums = frameSums }
    }

    override func makeState() -> AnyObject? { State(channels) }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let s = state as! State
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let c = channels, xv = x.value.p
        if dense || x.all {
            for j in 0..<c { s.frameSums[j] = 0 }
            for p in 0..<positions { for j in 0..<c { s.frameSums[j] += Double(xv[p * c + j]) } }
        } else {
            let div = FastDivider(c)
            for k in 0..<x.changed.count {
                let i = Int(x.changed.p[k])
                s.frameSums[i - div.quotient(i) * c] += Double(xv[i]) - Double(x.previous.p[i])
            }
        }
        for j in 0..<c { s.clipSums[j] += s.frameSums[j] }
        s.frames += 1
        guard s.frames == clipLength else { y.fresh = false; return }
        let n = Double(positions * clipLength)
        for j in 0..<c {
            y.value.p[j] = Float(s.clipSums[j] / n)
            s.clipSums[j] = 0
        }
        s.frames = 0
        y.all = true
    }
}

/// A step that gathers consecutive frames of its input and calls its layer
/// on them as one `[1, frames, ...]` tensor.
class FrameGatheringStep: Step {
    let layer: Layer
    let frameShape: [Int]
    let frameCount: Int
    /// Frames per layer call.
    let span: Int

    init(name: String, kind: String, layer: Layer, input: Int, output: Int, frameShape: [Int], span: Int) {
        self.layer = layer
        self.frameShape = frameShape
        self.span = span
        frameCount = frameShape.reduce(1, *)
        super.init(name: name, kind: kind, inputs: [input], output: output)
    }

    final class State {
        var frames: [Float]
        /// Frames received since the reset.
        var received = 0
        init(_ count: Int) { frames = [Float](repeating: 0, count: count) }
    }

    override func makeState() -> AnyObject? { State(frameCount * span) }

    /// Stores the input's frame at position `k` of the gathered frames.
    func store(_ x: Slot, at k: Int, _ s: State) {
        let n = frameCount
        s.frames.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: k * n).update(from: x.value.p, count: n) }
    }

    /// The layer's output on the gathered frames, as many values as `y` holds.
    func callLayer(_ s: State, _ y: Slot) throws -> Tensor {
        let out = try layer([Tensor(shape: [1, span] + frameShape, scalars: s.frames)], training: false)[0]
        guard out.count == y.count else {
            throw StreamingError.unsupported(layer: name, "returned \(out.count) values for an output of \(y.count)")
        }
        return out
    }
}

/// A layer that reads a whole clip and keeps no time axis (a Bidirectional or
/// backwards recurrent layer returning its last output, `Flatten`, global max pooling): the step
/// gathers the clip's frames and calls the layer once, densely, when the
/// clip's last frame is in.
final class ClipGatherStep: FrameGatheringStep {
    /// A recurrent layer's MACs per frame (one time step), counted on every frame.
    let macsPerFrame: Int

    init(name: String, layer: Layer, input: Int, output: Int, frameShape: [Int], outShape: [Int], clipLength: Int) {
        macsPerFrame = recurrentMACsPerStep(layer, stepOutputShape: outShape)
        super.init(name: name, kind: "clip layer call (\(type(of: layer).className))", layer: layer, input: input, output: output,
                   frameShape: frameShape, span: clipLength)
    }

    override var denseMACs: Int { macsPerFrame }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        ctx.countEveryFrame(macs: macsPerFrame)
        let s = state as! State
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let k = s.received % span
        s.received += 1
        store(x, at: k, s)
        guard k == span - 1 else { y.fresh = false; return }
        let out = try callLayer(s, y)
        out.scalars.withUnsafeBufferPointer { y.value.p.update(from: $0.baseAddress!, count: y.count) }
        y.all = true
    }
}

/// 3-D pooling whose window covers several frames without overlap (pool size
/// equal to the stride over time, as C3D's `MaxPooling3D(2)`): gathers each
/// window's frames and pools them with the layer when the last one is in,
/// recording which outputs changed; one output frame per window.
final class TemporalPoolStep: FrameGatheringStep {
    /// The clip lengths in and out.
    let clipIn: Int, clipOut: Int

    init(name: String, layer: BasePooling, input: Int, output: Int, frameShape: [Int], clipLength: Int) {
        clipIn = clipLength
        clipOut = clipLength / layer.poolSize[0]
        super.init(name: name, kind: "pooling over time", layer: layer, input: input, output: output, frameShape: frameShape,
                   span: layer.poolSize[0])
    }

    /// Frames per window.
    var window: Int { span }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let s = state as! State
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let i = s.received % clipIn
        s.received += 1
        // Frames past the last whole window of a clip (`valid` padding) are dropped.
        guard i < clipOut * span else { y.fresh = false; return }
        store(x, at: i % span, s)
        guard i % span == span - 1 else { y.fresh = false; return }
        let out = try callLayer(s, y)
        y.beginSparse()
        out.scalars.withUnsafeBufferPointer { v in for j in 0..<y.count { y.set(j, v[j]) } }
        if dense { y.all = true }
    }
}

/// A recurrent layer stepped forwards in time, frame by frame: one dense step
/// of its cell per frame (ConvLSTM: its input and recurrent convolutions as
/// one), its state carried from frame to frame and reset at each clip's first
/// frame. With `return_sequences` it emits every frame, recording which
/// outputs changed; else only each clip's last output.
final class RecurrentStep: Step {
    let cell: RecurrentCell
    let frameShape: [Int]
    let clipLength: Int
    let returnsSequences: Bool
    /// The weights a step reads (the joint input and recurrent transform's, when the cell has one).
    let weights: [Tensor]
    let joint: Bool
    let stateShapes: [[Int]]

    /// MACs of one step of the cell, dense on every frame.
    let macsPerFrame: Int

    init(name: String, layer: RNN, input: Int, output: Int, frameShape: [Int], outShape: [Int], clipLength: Int) throws {
        macsPerFrame = recurrentMACsPerStep(layer, stepOutputShape: outShape)
        cell = layer.cell
        self.frameShape = frameShape
        self.clipLength = clipLength
        returnsSequences = layer.returnSequences
        let jointWeights = try layer.cell.jointStepWeights()
        joint = jointWeights != nil
        weights = try jointWeights ?? layer.cell.recurrentWeights()
        stateShapes = try layer.cell.stateShapes(stepInputShape: frameShape.map { $0 }).map { $0.map { $0 ?? 1 } }
        super.init(name: name, kind: "recurrent step", inputs: [input], output: output)
    }

    final class State {
        var states: [Tensor] = []
        var received = 0
    }

    override func makeState() -> AnyObject? { State() }

    override var denseMACs: Int { macsPerFrame }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        ctx.countEveryFrame(macs: macsPerFrame)
        let s = state as! State
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let k = s.received % clipLength
        if k == 0 { s.states = stateShapes.map { Tensor.zeros([1] + $0) } }
        s.received += 1
        let frame = Tensor(shape: [1, 1] + frameShape, scalars: x.value.array)   // [time 1, batch 1, step...]
        let (out, next) = joint
            ? try cell.jointStep(sequence: frame, at: 0, states: s.states, weights: weights)
            : try cell.step(sequence: try cell.projectInputs(try frame.reshaped(to: [1] + frameShape)).expandingDims(at: 0),
                            at: 0, states: s.states, weights: weights)
        s.states = next
        guard returnsSequences || k == clipLength - 1 else { y.fresh = false; return }
        guard out.count == y.count else {
            throw StreamingError.unsupported(layer: name, "returned \(out.count) values for an output of \(y.count)")
        }
        y.beginSparse()
        out.scalars.withUnsafeBufferPointer { v in for j in 0..<y.count { y.set(j, v[j]) } }
        if dense { y.all = true }
    }
}

/// Multiply-accumulates of one time step of a recurrent layer (both directions
/// of a `Bidirectional` one), 0 for any other layer: each weight of its input and
/// recurrent kernels once per output position (`ConvLSTM2D`: per pixel).
func recurrentMACsPerStep(_ layer: Layer, stepOutputShape: [Int]) -> Int {
    guard layer is RNN || layer is Bidirectional, let channels = stepOutputShape.last, channels > 0 else { return 0 }
    let positions = stepOutputShape.reduce(1, *) / channels
    return positions * layer.weights.filter { $0.name.hasSuffix("kernel") }.reduce(0) { $0 + $1.value.count }
}
