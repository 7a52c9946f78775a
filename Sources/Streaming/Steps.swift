import CBLAS
import Foundation
import Layers
import Tensor

/// What one frame's run of the steps shares: the stream's slots and its counters.
final class FrameContext {
    let slots: [Slot]
    /// Multiply-accumulates done in this frame.
    var macs = 0
    /// MACs a delta engine needs in this frame: `W·Δ` over non-zero input deltas.
    var deltaMACs = 0
    /// Non-zero deltas and delta elements emitted by the delta layers in this frame.
    var deltaNonZero = 0
    var deltaElements = 0
    /// Fraction of changed inputs above which a linear step recomputes densely.
    let denseCutoff: Double
    /// Parts a step may split its delta work into on the worker pool (1: this thread only).
    let parts: Int
    /// Multiply-adds a part must get for a step to split its work.
    let minimumWorkPerPart: Int

    init(slots: [Slot], denseCutoff: Double, parts: Int, minimumWorkPerPart: Int) {
        self.slots = slots
        self.denseCutoff = denseCutoff
        self.parts = parts
        self.minimumWorkPerPart = minimumWorkPerPart
    }

    /// The parts (at most ``parts``) that `work` multiply-adds split into.
    @inline(__always) func parts(for work: Int) -> Int { Swift.max(1, Swift.min(parts, work / minimumWorkPerPart)) }

    /// ``parts(for:)`` for an epilogue over `elements` outputs (clamp, quantize, compare and record each one).
    @inline(__always) func parts(forEpilogueOver elements: Int) -> Int { parts(for: elements &* 16) }

    /// Counts the work of a step that runs densely on every frame (a recurrent
    /// layer): `macs` done, and as many in the delta path's count.
    func countEveryFrame(macs: Int) {
        self.macs += macs
        deltaMACs += macs
    }

    /// Counts the deltas a delta layer (or a step it is fused into) emitted in `y`.
    func countDeltas(_ y: Slot) {
        deltaNonZero += y.changed.count
        deltaElements += y.count
    }
}

/// The per-frame work of one node of the model (or of a node and the batch
/// normalization folded into it). Steps are immutable and shared by streams;
/// a stream keeps each step's state.
class Step {
    /// The layer (or layers) the step runs.
    var name: String
    /// What kind of step, for the plan's description.
    var kind: String
    let inputs: [Int]
    var output: Int
    /// Whether every input always changes everywhere (no delta layer before it).
    var denseFallback = false

    init(name: String, kind: String, inputs: [Int], output: Int) {
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.output = output
    }

    /// MACs of a dense run on one frame.
    var denseMACs: Int { 0 }
    /// MACs one non-zero input element triggers in a delta run.
    var macsPerInputElement: Double { 0 }

    func makeState() -> AnyObject? { nil }

    /// Runs the step for one frame: densely from the inputs' values when
    /// `dense` (a key frame) or an input changed everywhere, else only where
    /// the inputs changed.
    func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {}

    /// Takes the name and the output of a step that this one now runs as well.
    func absorb(_ step: Step) {
        name += "+" + step.name
        kind += ", " + step.kind
        output = step.output
    }
}

/// A step that can take over the element-wise activation and then the delta
/// layer that alone read its output, and run them in the same pass.
protocol FusingStep: Step {
    /// The element-wise activation it applies after its own operation.
    var activation: Pointwise { get set }
    var outputCount: Int { get }
    /// Whether it can apply `f` after its own operation.
    func takesActivation(_ f: Pointwise) -> Bool
    /// Whether it can quantize its output (after the activation it has).
    var takesDelta: Bool { get }
    /// Keeps a fused delta layer's steps, one per output element.
    func keep(fusedSteps: [Float])
}

extension FusingStep {
    func fuse(activation step: PointwiseStep) {
        precondition(takesActivation(step.activation))
        activation = step.activation
        absorb(step)
    }

    func fuse(delta: DeltaStep) {
        precondition(takesDelta && delta.fullStep.count == outputCount)
        keep(fusedSteps: delta.fullStep)
        absorb(delta)
    }
}

// MARK: - Delta layer

/// `v.rounded(.toNearestOrEven)` without a libm call on CPUs without SSE4.1:
/// adding and removing 1.5·2²³ rounds to the nearest even integer, exactly
/// as `rint` does, for |v| < 2²² (the sign of a zero result may differ).
@inline(__always) func roundHalfEven(_ v: Float) -> Float {
    Swift.abs(v) < 4_194_304 ? (v + 12_582_912) - 12_582_912 : v.rounded(.toNearestOrEven)
}

/// A `DeltaActivation`: keeps its previous output `q·round(x/q)` and emits the change.
final class DeltaStep: Step {
    /// The step `max(|threshold|, 1e-6)`, repeating every `step.count` elements.
    let step: [Float]
    /// The step of every element of a frame (no division per changed element).
    let fullStep: [Float]

    init(name: String, step: [Float], input: Int, output: Int, count: Int) {
        self.step = step
        fullStep = (0..<count).map { step[$0 % step.count] }
        super.init(name: name, kind: "delta", inputs: [input], output: output)
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        y.beginSparse()
        fullStep.withUnsafeBufferPointer { qs in
            let q = qs.baseAddress!, xv = x.value.p
            if x.all || dense || x.changed.count * 4 > x.count {
                y.setAll(xv, quantizedTo: q)
            } else {
                let idx = x.changed.p
                for k in 0..<x.changed.count {
                    let i = Int(idx[k])
                    y.set(i, quantize(xv[i], q[i]))
                }
            }
        }
        ctx.countDeltas(y)
    }
}

// MARK: - Linear layers

/// Per-stream state of a linear step: the pre-activation output, kept in
/// double precision so that thousands of `W·Δ` updates do not drift (a drift
/// of a few float ulps is enough to move a value across a rounding boundary
/// of the next delta layer), its float value, the touched output groups, and
/// scratch for the changes at one input position. A frame's scatter sums its `W·Δ` in float
/// (``pending``), at twice the lanes of double, and ``fold(width:)`` then adds
/// that sum to the double output: each frame rounds once, relative to its own
/// update, so the drift stays far below the output's float rounding.
final class LinearState {
    let wide: UnsafeMutablePointer<Double>
    /// This frame's `W·Δ` at the touched outputs (zero elsewhere and between frames).
    let pending: UnsafeMutablePointer<Float>
    let accumulator: FloatBuffer
    /// The output groups this frame's scatter touched, then listed in increasing order in ``touched``.
    let touchedGroups: IndexBits
    let touched: IndexList
    let outputs: IndexList
    /// Channels and deltas of the changes at one input position, one
    /// `positionWidth` run per part of a split scatter.
    let channels: UnsafeMutablePointer<Int32>
    let deltas: UnsafeMutablePointer<Float>
    private let positionWidth: Int
    /// One position's deltas over all its channels (zero between uses).
    let row: UnsafeMutablePointer<Float>
    /// The changes that parts 1… of a split epilogue record, made on first use.
    private(set) var partChanges: [IndexList] = []
    /// One output group's `W·Δ` per part of a positionwise frame (zero between uses), made on first use.
    private var rows: UnsafeMutablePointer<Float>?

    deinit {
        wide.deallocate()
        pending.deallocate()
        channels.deallocate()
        deltas.deallocate()
        row.deallocate()
        rows?.deallocate()
    }

    /// A row of `width` zeros per part of a positionwise frame, part `k`'s at `k · width`.
    func groupRows(width: Int) -> UnsafeMutablePointer<Float> {
        if let rows { return rows }
        let new = UnsafeMutablePointer<Float>.allocate(capacity: Parallelism.cores * width)
        new.initialize(repeating: 0, count: Parallelism.cores * width)
        rows = new
        return new
    }

    init(count: Int, groups: Int, positionWidth: Int) {
        wide = .allocate(capacity: Swift.max(count, 1))
        wide.initialize(repeating: 0, count: Swift.max(count, 1))
        pending = .allocate(capacity: Swift.max(count, 1))
        pending.initialize(repeating: 0, count: Swift.max(count, 1))
        accumulator = FloatBuffer(count)
        touchedGroups = IndexBits(groups)
        touched = IndexList(capacity: groups)
        outputs = IndexList(capacity: count)
        self.positionWidth = Swift.max(positionWidth, 1)
        let scratch = Parallelism.cores * self.positionWidth
        channels = .allocate(capacity: scratch)
        deltas = .allocate(capacity: scratch)
        row = .allocate(capacity: self.positionWidth)
        row.initialize(repeating: 0, count: self.positionWidth)
    }

    /// Adds ``pending`` to ``wide`` over the touched groups of `width` outputs, and zeroes it there.
    func fold(width: Int) {
        for k in 0..<touched.count {
            var j = Int(touched.p[k]) &* width
            let end = j &+ width
            while j &+ 8 <= end {
                _ = fold8(pending + j, into: wide + j)
                j &+= 8
            }
            while j < end {
                _ = fold1(pending + j, into: wide + j)
                j &+= 1
            }
        }
    }

    /// Runs `body(part, changes)` for each of `parts` parts on the pool: part 0
    /// records its changes in `y.changed`, the others in lists of their own
    /// (room for every output), which are then appended in part order.
    func recordInParts(_ parts: Int, into y: Slot, _ body: (Int, IndexList) -> Void) {
        while partChanges.count < parts - 1 { partChanges.append(IndexList(capacity: outputs.capacity)) }
        let lists = partChanges
        Parallelism.perform(iterations: parts) { part in
            let list = part == 0 ? y.changed : lists[part - 1]
            if part > 0 { list.count = 0 }
            body(part, list)
        }
        for list in lists.prefix(parts - 1) { y.changed.append(contentsOf: list) }
    }

    /// Runs `body` for each part of a scatter over `width` output channels,
    /// split on the pool into at most `parts` runs of 16 or more channels
    /// whose bounds are multiples of 8 (one part, inline, when too narrow).
    func forEachPart(_ parts: Int, width: Int, _ body: (ScatterPart) -> Void) {
        let parts = Swift.max(1, Swift.min(parts, width / 16))
        Parallelism.perform(iterations: parts) { part in
            let start = part == 0 ? 0 : (width * part / parts) & ~7
            let end = part == parts - 1 ? width : (width * (part + 1) / parts) & ~7
            body(ScatterPart(channels: start..<end, changedChannels: channels + part * positionWidth,
                             deltas: deltas + part * positionWidth, touched: part == 0 ? touchedGroups : nil))
        }
    }
}

/// One part of a scatter: its run of output channels, its scratch for the
/// changes at one input position, and (part 0 only) the set in which it
/// records the touched outputs (and counts the MACs).
struct ScatterPart {
    let channels: Range<Int>
    let changedChannels: UnsafeMutablePointer<Int32>
    let deltas: UnsafeMutablePointer<Float>
    let touched: IndexBits?
    var isFirst: Bool { touched != nil }
}

/// A linear layer `act(W·x + b)` (batch normalization folded in) that adds
/// `W·Δ` to its pre-activation output, visiting only changed inputs.
///
/// When the plan fuses the element-wise activation and the delta layer that
/// follow it, the step also quantizes (``fusedStep``) and its output is the
/// delta layer's: one vector pass over each touched output group.
class LinearStep: Step, FusingStep {
    var activation: Pointwise
    /// An activation over each output group as a whole (softmax over the
    /// channels), applied to the whole output after any change; `activation` is then the identity.
    var groupActivation: ActivationFunction?
    /// The steps of a delta layer fused into this step, else nil: one output
    /// group's (``fusedStepRepeats``) or every output element's.
    private(set) var fusedStep: UnsafeMutablePointer<Float>?
    /// Whether ``fusedStep`` holds one output group's steps, the same for every group.
    private var fusedStepRepeats = false
    let inputCount: Int
    let outputCount: Int
    /// Output elements updated together (the channels of a position or of a row).
    let groupWidth: Int
    /// Input elements of one position (the changes a scatter gathers at once).
    var positionWidth: Int { 1 }

    init(name: String, kind: String, input: Int, output: Int, activation: Pointwise,
         inputCount: Int, outputCount: Int, groupWidth: Int) {
        self.activation = activation
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.groupWidth = groupWidth
        super.init(name: name, kind: kind, inputs: [input], output: output)
    }

    deinit { fusedStep?.deallocate() }

    override func makeState() -> AnyObject? {
        LinearState(count: outputCount, groups: outputCount / groupWidth, positionWidth: positionWidth)
    }

    /// The clamp of an activation the vector epilogue applies (none for the
    /// identity and for a function on lanes, which ``finish`` applies after it), else nil.
    var clamp: (low: Float, high: Float)? {
        guard groupActivation == nil else { return nil }
        switch activation {
        case .identity, .lanes: return (-.infinity, .infinity)
        case .relu(let cap): return (0, cap)
        default: return nil
        }
    }

    func takesActivation(_ f: Pointwise) -> Bool { activation.isIdentity && clamp != nil && fusedStep == nil && f.fusesIntoEpilogue }
    var takesDelta: Bool { clamp != nil && fusedStep == nil }

    func keep(fusedSteps q: [Float]) {
        // One group's steps when every group has the same (a step per channel or per layer), which stay in cache.
        let w = groupWidth
        fusedStepRepeats = (w..<outputCount).allSatisfy { q[$0] == q[$0 % w] }
        let count = fusedStepRepeats ? w : outputCount
        fusedStep = .allocate(capacity: count)
        fusedStep!.initialize(from: q, count: count)
    }

    /// Sets `acc` to `W·x + b` from the input's value.
    func computeDense(_ x: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) throws {}

    /// The plan's dense cutoff is scaled by this for the step: a step with
    /// few MACs per changed input (1×1, depthwise) pays its per-change
    /// overhead sooner, so it goes dense at a lower fraction of changes.
    var cutoffFactor: Double { 1 }

    /// Adds `W·Δ` for the changed inputs to `state.pending`, inserting each
    /// touched output group in `state.touchedGroups`; returns the MACs done.
    /// A step may split the work into up to `parts` parts on the worker pool.
    func scatter(_ x: Slot, state: LinearState, parts: Int) -> Int { 0 }

    /// Brings `state.wide` up to date with `x`: densely (a key frame, an input
    /// changed everywhere, or more changes than the cutoff), else by adding
    /// `W·Δ` for the changes, listing the touched output groups in
    /// `state.touched`. Returns whether it ran densely. With `folds` false, a
    /// sparse frame leaves its sums in `state.pending` for ``finish`` to fold.
    func accumulate(_ x: Slot, _ s: LinearState, _ ctx: FrameContext, dense: Bool, folds: Bool = true) throws -> Bool {
        let estimate = Double(x.changed.count) * macsPerInputElement
        ctx.deltaMACs += x.all ? denseMACs : Int(estimate)
        s.touched.count = 0
        if runsDense(x, ctx, dense: dense) {
            try computeDense(x.value.p, into: s.accumulator.p)
            for i in 0..<outputCount { s.wide[i] = Double(s.accumulator.p[i]) }
            ctx.macs += denseMACs
            return true
        }
        ctx.macs += scatter(x, state: s, parts: ctx.parts(for: Int(estimate)))
        // In increasing order: the fold, the epilogue and the changes it lists go forward through memory.
        s.touchedGroups.removeAll { s.touched.append($0) }
        if folds { s.fold(width: groupWidth) }
        return false
    }

    /// Whether this frame runs densely: a key frame, an input changed
    /// everywhere, or more changes than the plan's cutoff for this step.
    private func runsDense(_ x: Slot, _ ctx: FrameContext, dense: Bool) -> Bool {
        let cutoff = ctx.denseCutoff < 1 ? ctx.denseCutoff * cutoffFactor : ctx.denseCutoff
        return dense || x.all || Double(x.changed.count) > cutoff * Double(x.count)
    }

    /// The kernel `[positionWidth, groupWidth]` of a step whose input position
    /// `p` feeds only output group `p` (a dense layer over rows, a 1×1
    /// convolution with stride 1), else nil.
    var positionwiseKernel: [Float]? { nil }

    /// Whether a positionwise step takes ``runPositionwise(_:_:_:_:_:parts:)``
    /// (tests turn it off to compare it with the scatter and ``finish``).
    var runsPositionwise = true

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let s = state as! LinearState
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let acc = s.accumulator.p
        if runsPositionwise, let clamp, let kernel = positionwiseKernel, !runsDense(x, ctx, dense: dense), x.changed.isIncreasing {
            let estimate = Double(x.changed.count) * macsPerInputElement
            ctx.deltaMACs += Int(estimate)
            s.touched.count = 0
            y.beginSparse()
            ctx.macs += runPositionwise(kernel, x, s, y, clamp, parts: ctx.parts(for: Int(estimate)))
            if fusedStep != nil { ctx.countDeltas(y) }
            return
        }
        // The epilogue over the touched groups folds `pending` as it goes, while each group is in cache.
        if try accumulate(x, s, ctx, dense: dense, folds: clamp == nil) {
            if let clamp, fusedStep != nil {
                // The fused delta layer emits what changed against its previous output.
                y.beginSparse()
                finish(nil, outputCount / groupWidth, s, y, clamp, parts: ctx.parts(forEpilogueOver: outputCount))
                ctx.countDeltas(y)
                return
            }
            try activation.applyAll(acc, y.value.p, count: outputCount)
            y.all = true
            try applyGroupActivation(acc, y)
            return
        }
        y.beginSparse()
        let w = groupWidth
        if let clamp {
            finish(s.touched.p, s.touched.count, s, y, clamp, parts: ctx.parts(forEpilogueOver: s.touched.count * groupWidth))
            if fusedStep != nil { ctx.countDeltas(y) }
            return
        }
        // Outputs of the touched groups: new value act(acc), recorded where it changed.
        let out = s.outputs
        out.count = 0
        for k in 0..<s.touched.count {
            let base = Int(s.touched.p[k]) * w
            for j in 0..<w { out.append(base + j) }
        }
        let yv = y.value.p, old = y.previous.p
        for k in 0..<out.count { let i = Int(out.p[k]); old[i] = yv[i]; acc[i] = Float(s.wide[i]) }
        try activation.apply(acc, yv, indices: out.p, count: out.count)
        for k in 0..<out.count {
            let i = Int(out.p[k])
            if yv[i] != old[i] { y.changed.append(i) }
        }
        if y.changed.count > 0, groupActivation != nil {
            // A softmax-like activation changes its whole group with any input.
            try applyGroupActivation(acc, y)
            y.all = true
        }
    }

    /// Sets the outputs of the output groups `groups` (all groups when nil) to
    /// the clamped (and, when fused, quantized) float value of `s.wide`,
    /// recording those that change; in up to `parts` runs of groups on the
    /// pool, whose changes are then listed in the order one run makes. The
    /// touched `groups` first fold their `s.pending` sums into `s.wide`.
    private func finish(_ groups: UnsafePointer<Int32>?, _ count: Int, _ s: LinearState, _ y: Slot,
                        _ clamp: (low: Float, high: Float), parts: Int) {
        s.recordInParts(parts, into: y) { part, list in
            finish(groups, count * part / parts ..< count * (part + 1) / parts, s, y, clamp, into: list)
        }
    }

    private func finish(_ groups: UnsafePointer<Int32>?, _ range: Range<Int>, _ s: LinearState, _ y: Slot,
                        _ clamp: (low: Float, high: Float), into changes: IndexList) {
        if clamp.low > -.infinity || clamp.high < .infinity {
            finish(groups, range, s, y, clamp, Clamping.self, fusedStep, changes)
        } else {
            finish(groups, range, s, y, clamp, NotClamping.self, fusedStep, changes)
        }
    }

    /// Compiled once per ``ClampChoice``, whose test then folds away.
    @inline(never) private func finish<C: ClampChoice>(_ groups: UnsafePointer<Int32>?, _ range: Range<Int>,
                                                        _ s: LinearState, _ y: Slot,
                                                        _ clamp: (low: Float, high: Float), _: C.Type,
                                                        _ q: UnsafeMutablePointer<Float>?, _ changes: IndexList) {
        let w = groupWidth, repeats = fusedStepRepeats, lanes = activation.laneFunction, clamps = C.clamps
        let wide = s.wide, pending = s.pending
        // Touched groups change here and there: no branch. A whole frame mostly keeps its quantized values: a branch.
        // Touched groups fold their pending sums first (as ``LinearState/fold(width:)`` does); a whole frame has none.
        let touched = groups != nil
        for g in range {
            var j = (groups.map { Int($0[g]) } ?? g) &* w
            let end = j &+ w
            // The steps of element j are at q + j − first.
            let first = repeats ? j : 0
            while j &+ 8 <= end {
                let a = touched ? fold8(pending + j, into: wide + j) : float8(wide + j)
                let v = activateAndQuantize(a, j, lanes, clamp, clamps: clamps, q.map { $0 - first })
                if touched { y.set8Unconditionally(j, v, recordingIn: changes) } else { y.set8(j, v, recordingIn: changes) }
                j &+= 8
            }
            while j < end {
                let a = touched ? fold1(pending + j, into: wide + j) : Float(wide[j])
                y.set(j, activateAndQuantize(a, j, lanes, clamp, clamps: clamps, q.map { $0 - first }), recordingIn: changes)
                j &+= 1
            }
        }
    }

    /// A positionwise step's sparse frame, position by position: the changes
    /// at a position are summed into one row of float scratch (``addRows``, in
    /// the order and with the roundings of ``scatter``), which is folded into
    /// the double accumulator and finished (activated, clamped, quantized and
    /// compared) at once while it is in cache, with no pass over `pending`
    /// and no set of touched groups. Split into up to `parts` runs of
    /// positions on the pool; the changes they record are then listed in
    /// position order. Returns the MACs done.
    private func runPositionwise(_ kernel: [Float], _ x: Slot, _ s: LinearState, _ y: Slot,
                                 _ clamp: (low: Float, high: Float), parts: Int) -> Int {
        let n = x.changed.count, idx = x.changed.p, position = FastDivider(positionWidth)
        let parts = Swift.max(1, Swift.min(parts, n))
        // Where part k's changes start: the first change from n·k/parts on that begins a position.
        func start(_ k: Int) -> Int {
            var e = n * k / parts
            while e > 0 && e < n && position.quotient(Int(idx[e])) == position.quotient(Int(idx[e - 1])) { e += 1 }
            return e
        }
        return kernel.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: parts) { macs in
                s.recordInParts(parts, into: y) { part, list in
                    macs[part] = positionwisePart(k.baseAddress!, x, start(part)..<start(part + 1), s, part, y, clamp, list)
                }
                return macs.reduce(0, +)
            }
        }
    }

    /// The positions of `changes` of the input, with part `part`'s scratch, recording in `list`.
    private func positionwisePart(_ k: UnsafePointer<Float>, _ x: Slot, _ changes: Range<Int>, _ s: LinearState, _ part: Int,
                                  _ y: Slot, _ clamp: (low: Float, high: Float), _ list: IndexList) -> Int {
        if clamp.low > -.infinity || clamp.high < .infinity {
            return positionwisePart(k, x, changes, s, part, y, clamp, Clamping.self, fusedStep, list)
        }
        return positionwisePart(k, x, changes, s, part, y, clamp, NotClamping.self, fusedStep, list)
    }

    /// Compiled once per ``ClampChoice``, whose test then folds away.
    @inline(never) private func positionwisePart<C: ClampChoice>(_ k: UnsafePointer<Float>, _ x: Slot, _ changes: Range<Int>,
                                                                  _ s: LinearState, _ part: Int, _ y: Slot,
                                                                  _ clamp: (low: Float, high: Float), _: C.Type,
                                                                  _ q: UnsafeMutablePointer<Float>?, _ list: IndexList) -> Int {
        let w = groupWidth, width = positionWidth, repeats = fusedStepRepeats, lanes = activation.laneFunction, clamps = C.clamps
        let wide = s.wide, row = s.groupRows(width: w) + part * w
        let channels = s.channels + part * width, deltas = s.deltas + part * width
        var macs = 0
        forEachChangedPosition(x, width: width, channels, deltas, changes: changes) { g, count in
            addRows(row, w, k, ldw: w, channels, deltas, count)
            macs += count * w
            // wide += row (zeroing the row), then the epilogue.
            let base = g &* w, first = repeats ? base : 0
            var j = 0
            while j &+ 8 <= w {
                let i = base &+ j, v = fold8(row + j, into: wide + i)
                y.set8Unconditionally(i, activateAndQuantize(v, i, lanes, clamp, clamps: clamps, q.map { $0 - first }), recordingIn: list)
                j &+= 8
            }
            while j < w {
                let i = base &+ j, v = fold1(row + j, into: wide + i)
                y.set(i, activateAndQuantize(v, i, lanes, clamp, clamps: clamps, q.map { $0 - first }), recordingIn: list)
                j &+= 1
            }
        }
        return macs
    }

    private func applyGroupActivation(_ acc: UnsafeMutablePointer<Float>, _ y: Slot) throws {
        guard let groupActivation else { return }
        if groupActivation.function == .softmax {
            for base in stride(from: 0, to: outputCount, by: groupWidth) { softmaxRow(acc + base, y.value.p + base, groupWidth) }
            return
        }
        let x = Tensor(shape: [outputCount / groupWidth, groupWidth], scalars: Array(UnsafeBufferPointer(start: acc, count: outputCount)))
        let out = try groupActivation(x)
        out.scalars.withUnsafeBufferPointer { y.value.p.update(from: $0.baseAddress!, count: outputCount) }
    }
}

/// Adds the eight float sums at `sums` to the doubles at `wide` and zeroes
/// them (a linear step's fold); returns the new values, rounded to float.
@inline(__always) func fold8(_ sums: UnsafeMutablePointer<Float>, into wide: UnsafeMutablePointer<Double>) -> Float8 {
    let v = load8(sums)
    let low = load4(wide) + Double4(v.lowHalf), high = load4(wide + 4) + Double4(v.highHalf)
    store4(low, wide)
    store4(high, wide + 4)
    store8(Float8(repeating: 0), sums)
    return Float8(lowHalf: SIMD4<Float>(low), highHalf: SIMD4<Float>(high))
}

/// ``fold8(_:into:)`` on one value.
@inline(__always) func fold1(_ sums: UnsafeMutablePointer<Float>, into wide: UnsafeMutablePointer<Double>) -> Float {
    wide.pointee += Double(sums.pointee)
    sums.pointee = 0
    return Float(wide.pointee)
}

/// The eight doubles at `wide`, rounded to float.
@inline(__always) func float8(_ wide: UnsafePointer<Double>) -> Float8 {
    Float8(lowHalf: SIMD4<Float>(load4(wide)), highHalf: SIMD4<Float>(load4(wide + 4)))
}

/// Whether an epilogue loop clamps, as a type: a loop generic over it is
/// compiled once for each, with the test folded away.
protocol ClampChoice { static var clamps: Bool { get } }
enum Clamping: ClampChoice { static var clamps: Bool { true } }
enum NotClamping: ClampChoice { static var clamps: Bool { false } }

/// Eight outputs from `j` of pre-activation `v`, activated (on `lanes`),
/// clamped when `clamps`, and quantized to the steps at `q + j` when given:
/// a linear step's epilogue.
@_transparent func activateAndQuantize(_ v: Float8, _ j: Int, _ lanes: LaneActivation?, _ clamp: (low: Float, high: Float),
                                       clamps: Bool, _ q: UnsafeMutablePointer<Float>?) -> Float8 {
    clampAndQuantize(lanes.map { $0(v) } ?? v, clamp, clamps: clamps, q.map { load8($0 + j) })
}

/// The same for one output.
@_transparent func activateAndQuantize(_ v: Float, _ j: Int, _ lanes: LaneActivation?, _ clamp: (low: Float, high: Float),
                                       clamps: Bool, _ q: UnsafeMutablePointer<Float>?) -> Float {
    clampAndQuantize(lanes.map { $0(v) } ?? v, clamp, clamps: clamps, q.map { $0[j] })
}

/// `min(max(v, low), high)` lane by lane when `clamps`, then quantized to the
/// steps `q` when given: a linear step's fused rectifier and delta layer.
@_transparent func clampAndQuantize(_ v: Float8, _ clamp: (low: Float, high: Float), clamps: Bool, _ q: Float8?) -> Float8 {
    var v = v
    if clamps {
        let low = Float8(repeating: clamp.low), high = Float8(repeating: clamp.high)
        v = v.replacing(with: low, where: v .<= low)
        v = v.replacing(with: high, where: high .< v)
    }
    if let q { v = quantize(v, q) }
    return v
}

/// ``clampAndQuantize(_:_:clamps:_:)`` on one element, with the same float operations.
@_transparent func clampAndQuantize(_ v: Float, _ clamp: (low: Float, high: Float), clamps: Bool, _ q: Float?) -> Float {
    var v = v
    if clamps { v = Swift.min(Swift.max(v, clamp.low), clamp.high) }
    if let q { v = quantize(v, q) }
    return v
}

/// `out[0..<n] += Σ_r deltas[r] · w[channels[r]·ldw ..< +n]`, blocked over `out` in registers,
/// one fused multiply-add per term (the vector and the scalar loops round alike).
@inline(__always) func addRows(_ out: UnsafeMutablePointer<Float>, _ n: Int, _ w: UnsafePointer<Float>, ldw: Int,
                               _ channels: UnsafePointer<Int32>, _ deltas: UnsafePointer<Float>, _ count: Int) {
    var j = 0
    // Eight chains of multiply-adds in flight: four would wait on the add latency.
    while j + 64 <= n {
        var a0 = load8(out + j), a1 = load8(out + j + 8), a2 = load8(out + j + 16), a3 = load8(out + j + 24)
        var a4 = load8(out + j + 32), a5 = load8(out + j + 40), a6 = load8(out + j + 48), a7 = load8(out + j + 56)
        for r in 0..<count {
            let d = Float8(repeating: deltas[r])
            let row = w + Int(channels[r]) * ldw + j
            a0 = a0.addingProduct(d, load8(row))
            a1 = a1.addingProduct(d, load8(row + 8))
            a2 = a2.addingProduct(d, load8(row + 16))
            a3 = a3.addingProduct(d, load8(row + 24))
            a4 = a4.addingProduct(d, load8(row + 32))
            a5 = a5.addingProduct(d, load8(row + 40))
            a6 = a6.addingProduct(d, load8(row + 48))
            a7 = a7.addingProduct(d, load8(row + 56))
        }
        store8(a0, out + j); store8(a1, out + j + 8); store8(a2, out + j + 16); store8(a3, out + j + 24)
        store8(a4, out + j + 32); store8(a5, out + j + 40); store8(a6, out + j + 48); store8(a7, out + j + 56)
        j += 64
    }
    while j + 32 <= n {
        var a0 = load8(out + j), a1 = load8(out + j + 8), a2 = load8(out + j + 16), a3 = load8(out + j + 24)
        for r in 0..<count {
            let d = Float8(repeating: deltas[r])
            let row = w + Int(channels[r]) * ldw + j
            a0 = a0.addingProduct(d, load8(row))
            a1 = a1.addingProduct(d, load8(row + 8))
            a2 = a2.addingProduct(d, load8(row + 16))
            a3 = a3.addingProduct(d, load8(row + 24))
        }
        store8(a0, out + j); store8(a1, out + j + 8); store8(a2, out + j + 16); store8(a3, out + j + 24)
        j += 32
    }
    while j + 8 <= n {
        var a = load8(out + j)
        for r in 0..<count { a = a.addingProduct(Float8(repeating: deltas[r]), load8(w + Int(channels[r]) * ldw + j)) }
        store8(a, out + j)
        j += 8
    }
    while j < n {
        var a = out[j]
        for r in 0..<count { a.addProduct(deltas[r], w[Int(channels[r]) * ldw + j]) }
        out[j] = a
        j += 1
    }
}

/// Walks the changes of `x` position by position (`width` elements each):
/// calls `body(position, count)` with the channels and deltas `new − old`
/// (rounded once) of the non-zero changes at that position in `channels`/`deltas`.
/// Only the changes `changes` of the list when given.
@inline(__always) func forEachChangedPosition(_ x: Slot, width: Int, _ channels: UnsafeMutablePointer<Int32>,
                                              _ deltas: UnsafeMutablePointer<Float>, changes: Range<Int>? = nil,
                                              _ body: (Int, Int) -> Void) {
    let div = FastDivider(width)
    let idx = x.changed.p, xv = x.value.p, old = x.previous.p, n = changes?.upperBound ?? x.changed.count
    var e = changes?.lowerBound ?? 0
    while e < n {
        let pos = div.quotient(Int(idx[e]))
        let start = pos * width, end = start + width
        var count = 0
        while e < n {
            let i = Int(idx[e])
            if i < start || i >= end { break }
            let dv = xv[i] - old[i]
            if dv != 0 {
                channels[count] = Int32(i - start)
                deltas[count] = dv
                count += 1
            }
            e += 1
        }
        if count > 0 { body(pos, count) }
    }
}

/// Calls `body` with the position (`width` elements each) of each run of
/// changes of `x` at one position: each changed position once when
/// `x.changed` is in increasing order, as most steps list it; after a
/// permutation or a concatenation a position can come up again, so callers
/// collect the positions in a set.
@inline(__always) func forEachChangedPosition(_ x: Slot, width: Int, _ body: (Int) -> Void) {
    let div = FastDivider(width)
    var last = -1
    for k in 0..<x.changed.count {
        let p = div.quotient(Int(x.changed.p[k]))
        if p != last { last = p; body(p) }
    }
}

/// The geometry of a 1-D or 2-D window (1-D as height 1).
struct Window2D {
    let inH: Int, inW: Int, outH: Int, outW: Int
    let kH: Int, kW: Int, strideH: Int, strideW: Int, dilH: Int, dilW: Int, padTop: Int, padLeft: Int

    init(inSpatial: [Int], outSpatial: [Int], kernel: [Int], strides: [Int], dilation: [Int], padding: Padding) {
        func lift(_ v: [Int], _ fill: Int) -> (Int, Int) { v.count == 1 ? (fill, v[0]) : (v[0], v[1]) }
        (inH, inW) = lift(inSpatial, 1)
        (outH, outW) = lift(outSpatial, 1)
        (kH, kW) = lift(kernel, 1)
        (strideH, strideW) = lift(strides, 1)
        (dilH, dilW) = lift(dilation, 1)
        func pad(_ size: Int, _ out: Int, _ k: Int, _ s: Int, _ d: Int) -> Int {
            let extent = (k - 1) * d + 1
            switch padding {
            case .valid: return 0
            case .same: return Swift.max((out - 1) * s + extent - size, 0) / 2
            case .causal: return extent - 1
            }
        }
        padTop = pad(inH, outH, kH, strideH, dilH)
        padLeft = pad(inW, outW, kW, strideW, dilW)
    }

    /// For each input position, the `(output position, tap)` pairs whose window holds it.
    func scatterTable() -> WindowTable {
        var offsets: [Int32] = [0], pairs: [Int32] = []
        for y in 0..<inH {
            for x in 0..<inW {
                forEachTap(y, x) { o, tap in pairs.append(Int32(o)); pairs.append(Int32(tap)) }
                offsets.append(Int32(pairs.count / 2))
            }
        }
        return WindowTable(offsets: offsets, entries: pairs, width: 2)
    }

    /// For each output position, the input positions of its window (inside the input).
    func windowTable() -> WindowTable {
        var offsets: [Int32] = [0], inputs: [Int32] = []
        for o in 0..<(outH * outW) {
            forEachWindowInput(o) { i, _ in inputs.append(Int32(i)) }
            offsets.append(Int32(inputs.count))
        }
        return WindowTable(offsets: offsets, entries: inputs, width: 1)
    }

    /// For each output position, the `(input position, tap)` pairs of its window
    /// (inside the input): the scatter table of the transposed convolution.
    func gatherTable() -> WindowTable {
        var offsets: [Int32] = [0], pairs: [Int32] = []
        for o in 0..<(outH * outW) {
            forEachWindowInput(o) { i, tap in pairs.append(Int32(i)); pairs.append(Int32(tap)) }
            offsets.append(Int32(pairs.count / 2))
        }
        return WindowTable(offsets: offsets, entries: pairs, width: 2)
    }

    /// Calls `body(inputPosition, tap)` for every tap of output position `o`'s window inside the input.
    private func forEachWindowInput(_ o: Int, _ body: (Int, Int) -> Void) {
        let oy = o / outW, ox = o % outW
        for ki in 0..<kH {
            let iy = oy * strideH - padTop + ki * dilH
            if iy < 0 || iy >= inH { continue }
            for kj in 0..<kW {
                let ix = ox * strideW - padLeft + kj * dilW
                if ix < 0 || ix >= inW { continue }
                body(iy * inW + ix, ki * kW + kj)
            }
        }
    }

    /// Calls `body(outputPosition, tap)` for every output position whose window holds input (y, x).
    @inline(__always) func forEachTap(_ y: Int, _ x: Int, _ body: (Int, Int) -> Void) {
        for ki in 0..<kH {
            let ny = y + padTop - ki * dilH
            if ny < 0 { break }
            if ny % strideH != 0 { continue }
            let oy = ny / strideH
            if oy >= outH { continue }
            for kj in 0..<kW {
                let nx = x + padLeft - kj * dilW
                if nx < 0 { break }
                if nx % strideW != 0 { continue }
                let ox = nx / strideW
                if ox >= outW { continue }
                body(oy * outW + ox, ki * kW + kj)
            }
        }
    }
}

/// A table of a window geometry, read-only and shared by the streams: for
/// each position `p`, the entries `offsets[p]..<offsets[p+1]`, each `width`
/// Int32s (`(output position, tap)` pairs of a scatter table, input positions of a window table).
final class WindowTable {
    let offsets: UnsafeMutablePointer<Int32>
    let entries: UnsafeMutablePointer<Int32>
    let width: Int

    init(offsets: [Int32], entries: [Int32], width: Int) {
        self.offsets = .allocate(capacity: offsets.count)
        self.offsets.initialize(from: offsets, count: offsets.count)
        self.entries = .allocate(capacity: Swift.max(entries.count, 1))
        self.entries.initialize(from: entries, count: entries.count)
        self.width = width
    }

    deinit {
        offsets.deallocate()
        entries.deallocate()
    }

    /// Entry `k` of row `t` (`k < width`).
    @inline(__always) subscript(_ t: Int, _ k: Int) -> Int { Int(entries[t &* width &+ k]) }
    @inline(__always) func rows(_ p: Int) -> Range<Int> { Int(offsets[p])..<Int(offsets[p + 1]) }

    /// Calls `body(outputPosition, tap)` for each pair of scatter-table position `p`,
    /// then (given `touched`) inserts the output position there; returns the number of pairs.
    @inline(__always) func forEachTap(of p: Int, touched: IndexBits?, _ body: (Int, Int) -> Void) -> Int {
        let r = rows(p)
        for t in r {
            let o = self[t, 0]
            body(o, self[t, 1])
            touched?.insert(o)
        }
        return r.count
    }
}

/// A convolution over a sliding window (regular or depthwise): its kernel,
/// bias and geometry, and the table of which outputs each input position feeds.
class WindowedStep: LinearStep {
    let kernel: Tensor
    let bias: [Float]
    let window: Window2D
    let strides: [Int], dilation: [Int], padding: Padding
    let table: WindowTable
    let inChannels: Int

    init(name: String, kind: String, input: Int, output: Int, activation: Pointwise, kernel: Tensor, bias: [Float],
         inShape: [Int], outShape: [Int], strides: [Int], dilation: [Int], padding: Padding, groupWidth: Int) {
        self.kernel = kernel
        self.bias = bias
        inChannels = inShape.last!
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        window = Window2D(inSpatial: Array(inShape.dropLast()), outSpatial: Array(outShape.dropLast()),
                          kernel: Array(kernel.shape.dropLast(2)), strides: strides, dilation: dilation, padding: padding)
        table = window.scatterTable()
        super.init(name: name, kind: kind, input: input, output: output, activation: activation,
                   inputCount: inShape.reduce(1, *), outputCount: outShape.reduce(1, *), groupWidth: groupWidth)
    }

    override var positionWidth: Int { inChannels }

    /// One frame `x` as the batch of one that the dense convolution takes (1-D kernels: `[1, W, C]`).
    func frameTensor(_ x: UnsafeMutablePointer<Float>) -> Tensor {
        let spatial = kernel.rank == 3 ? [window.inW] : [window.inH, window.inW]
        return Tensor(shape: [1] + spatial + [inChannels], scalars: Array(UnsafeBufferPointer(start: x, count: inputCount)))
    }
}

/// `Conv1D`/`Conv2D`: each changed input element scatters its kernel slice
/// `K[tap, c, :]` into the outputs whose window holds it (with `groups`, only
/// into the output channels of its group).
final class ConvStep: WindowedStep {
    let kernelValues: [Float]
    let filters: Int
    let groups: Int
    let cache = WinogradKernelCache()

    init(name: String, input: Int, output: Int, activation: Pointwise, kernel: Tensor, bias: [Float],
         inShape: [Int], outShape: [Int], strides: [Int], dilation: [Int], padding: Padding, groups: Int = 1) {
        kernelValues = kernel.scalars
        filters = outShape.last!
        self.groups = groups
        super.init(name: name, kind: groups == 1 ? "conv" : "grouped conv", input: input, output: output, activation: activation,
                   kernel: kernel, bias: bias, inShape: inShape, outShape: outShape, strides: strides, dilation: dilation,
                   padding: padding, groupWidth: outShape.last!)
    }

    override var denseMACs: Int { outputCount * window.kH * window.kW * inChannels / groups }
    override var cutoffFactor: Double { window.kH * window.kW == 1 || groups > 1 ? 0.4 : 1 }
    override var positionwiseKernel: [Float]? {
        window.kH * window.kW == 1 && window.strideH * window.strideW == 1 && groups == 1
            && window.outH == window.inH && window.outW == window.inW ? kernelValues : nil
    }
    override var macsPerInputElement: Double {
        Double(window.kH * window.kW * filters / groups) / Double(window.strideH * window.strideW)
    }

    override func computeDense(_ x: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) throws {
        let y = try Tensor.conv(frameTensor(x), kernel, strides: strides, padding: padding, dilation: dilation, groups: groups,
                                epilogue: ChannelEpilogue(bias: bias), kernelCache: (cache, version: 0))
        y.scalars.withUnsafeBufferPointer { acc.update(from: $0.baseAddress!, count: outputCount) }
    }

    override func scatter(_ x: Slot, state s: LinearState, parts: Int) -> Int {
        guard groups > 1 else {
            return scatterKernelRows(x, state: s, table: table, kernel: kernelValues, inChannels: inChannels, filters: filters,
                                     parts: parts)
        }
        // The changed channels of a position come in increasing order: each run
        // of one group adds its rows into that group's output channels, tap by tap.
        let cin = inChannels / groups, cout = filters / groups, f = filters, acc = s.pending, table = self.table
        let group = FastDivider(cin)
        var macs = 0
        kernelValues.withUnsafeBufferPointer { ks in
            let k = ks.baseAddress!
            forEachChangedPosition(x, width: inChannels, s.channels, s.deltas) { pos, count in
                var r = 0
                while r < count {
                    let g = group.quotient(Int(s.channels[r]))
                    var end = r + 1
                    while end < count && group.quotient(Int(s.channels[end])) == g { end += 1 }
                    // Row c of the group's slice `K[tap, c − g·cin, g·cout ..< (g+1)·cout]`, read through the global channel c.
                    let rows = k + g * cout - g * cin * f, out = acc + g * cout
                    let taps = table.forEachTap(of: pos, touched: r == 0 ? s.touchedGroups : nil) { o, tap in
                        addRows(out + o * f, cout, rows + tap * cin * f, ldw: f, s.channels + r, s.deltas + r, end - r)
                    }
                    macs += taps * (end - r) * cout
                    r = end
                }
            }
        }
        return macs
    }
}

/// Adds `Σ_c Δ_c · K[tap, c, :]` to each output a changed input position
/// feeds (`table`: its `(output position, tap)` pairs), all changed channels
/// of a position at once; returns the MACs done. Split into `parts` on the
/// pool, each part adds a run of the output channels (the sums, and their
/// order, are those of one run), and part 0 lists the touched outputs.
private func scatterKernelRows(_ x: Slot, state s: LinearState, table: WindowTable, kernel: [Float], inChannels cin: Int,
                               filters cout: Int, parts: Int) -> Int {
    let acc = s.pending
    var macs = 0
    kernel.withUnsafeBufferPointer { ks in
        let k = ks.baseAddress!
        s.forEachPart(parts, width: cout) { p in
            let lo = p.channels.lowerBound, n = p.channels.count
            forEachChangedPosition(x, width: cin, p.changedChannels, p.deltas) { pos, count in
                let taps = table.forEachTap(of: pos, touched: p.touched) { o, tap in
                    addRows(acc + o * cout + lo, n, k + tap * cin * cout + lo, ldw: cout, p.changedChannels, p.deltas, count)
                }
                if p.isFirst { macs += taps * count * cout }
            }
        }
    }
    return macs
}

/// A transposed convolution's kernel `[tap, filters, in]` as `[tap, in, filters]`.
private func scatterRows(_ kernel: Tensor) -> [Float] {
    let filters = kernel.shape[kernel.rank - 2], inChannels = kernel.shape[kernel.rank - 1]
    let taps = kernel.count / (inChannels * filters), k = kernel.scalars
    var rows = [Float](repeating: 0, count: kernel.count)
    for t in 0..<taps {
        for o in 0..<filters {
            for c in 0..<inChannels { rows[(t * inChannels + c) * filters + o] = k[(t * filters + o) * inChannels + c] }
        }
    }
    return rows
}

/// `Conv1DTranspose`/`Conv2DTranspose`: a changed input element scatters
/// `K[tap, :, c]` into the outputs of the window that the convolution it
/// transposes reads for that input's position.
final class ConvTransposeStep: LinearStep {
    /// `[k..., filters, in]`, as the layer holds it (the dense path).
    let kernel: Tensor
    /// The same values as `[tap, in, filters]` (the scatter's rows).
    let kernelValues: [Float]
    let bias: [Float]
    let strides: [Int], dilation: [Int], padding: Padding, outputPadding: [Int]?
    let table: WindowTable
    let inSpatial: [Int]
    let inChannels: Int, filters: Int

    init(name: String, input: Int, output: Int, activation: Pointwise, kernel: Tensor, bias: [Float], inShape: [Int],
         outShape: [Int], strides: [Int], dilation: [Int], padding: Padding, outputPadding: [Int]?) {
        let spatial = Array(inShape.dropLast()), outSpatial = Array(outShape.dropLast())
        // The forward convolution maps this step's output frame to its input frame.
        let forward = Window2D(inSpatial: outSpatial, outSpatial: spatial, kernel: Array(kernel.shape.dropLast(2)),
                               strides: strides, dilation: dilation, padding: padding)
        let channels = kernel.shape[kernel.rank - 1], filters = kernel.shape[kernel.rank - 2]
        self.kernel = kernel
        self.bias = bias
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.outputPadding = outputPadding
        inSpatial = spatial
        inChannels = channels
        self.filters = filters
        kernelValues = scatterRows(kernel)
        table = forward.gatherTable()
        super.init(name: name, kind: "transposed conv", input: input, output: output, activation: activation,
                   inputCount: inShape.reduce(1, *), outputCount: outShape.reduce(1, *), groupWidth: filters)
    }

    override var positionWidth: Int { inChannels }
    override var denseMACs: Int { Int(table.offsets[inputCount / inChannels]) * inChannels * filters }
    override var macsPerInputElement: Double { Double(denseMACs) / Double(inputCount) }

    override func computeDense(_ x: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) throws {
        let frame = Tensor(shape: [1] + inSpatial + [inChannels], scalars: Array(UnsafeBufferPointer(start: x, count: inputCount)))
        let y = try Tensor.convTranspose(frame, kernel, strides: strides, padding: padding, outputPadding: outputPadding,
                                         dilation: dilation)
        y.scalars.withUnsafeBufferPointer { ys in
            for i in 0..<outputCount { acc[i] = ys[i] + bias[i % filters] }
        }
    }

    override func scatter(_ x: Slot, state s: LinearState, parts: Int) -> Int {
        scatterKernelRows(x, state: s, table: table, kernel: kernelValues, inChannels: inChannels, filters: filters, parts: parts)
    }
}

/// `DepthwiseConv1D`/`DepthwiseConv2D`: a changed input element of channel
/// `c` updates that channel's `depth_multiplier` outputs in its receptive field.
final class DepthwiseStep: WindowedStep {
    let kernelValues: [Float]
    let multiplier: Int

    init(name: String, input: Int, output: Int, activation: Pointwise, kernel: Tensor, bias: [Float],
         inShape: [Int], outShape: [Int], strides: [Int], dilation: [Int], padding: Padding) {
        kernelValues = kernel.scalars
        multiplier = kernel.shape.last!
        super.init(name: name, kind: "depthwise conv", input: input, output: output, activation: activation, kernel: kernel,
                   bias: bias, inShape: inShape, outShape: outShape, strides: strides, dilation: dilation, padding: padding,
                   groupWidth: inShape.last! * kernel.shape.last!)
    }

    override var denseMACs: Int { outputCount * window.kH * window.kW }
    override var cutoffFactor: Double { 0.4 }
    override var macsPerInputElement: Double { Double(window.kH * window.kW * multiplier) / Double(window.strideH * window.strideW) }

    override func computeDense(_ x: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) throws {
        // Causal (a 1-D separable convolution's depthwise half): the past padded with zeros, then a valid window.
        let causal = padding == .causal ? [(window.padLeft, 0)] : nil
        let y = try Tensor.depthwiseConv(frameTensor(x), kernel, strides: strides, padding: causal == nil ? padding : .valid,
                                         dilation: dilation, zeroPadding: causal, epilogue: ChannelEpilogue(bias: bias))
        y.scalars.withUnsafeBufferPointer { acc.update(from: $0.baseAddress!, count: outputCount) }
    }

    override func scatter(_ x: Slot, state s: LinearState, parts: Int) -> Int {
        let ch = inChannels, m = multiplier, acc = s.pending, table = self.table
        var macs = 0
        kernelValues.withUnsafeBufferPointer { ks in
            let k = ks.baseAddress!
            // Each part takes its run of the input channels (and their outputs).
            s.forEachPart(parts, width: ch) { p in
                let lo = p.channels.lowerBound, hi = p.channels.upperBound
                let channels = p.changedChannels, deltas = p.deltas
                forEachChangedPosition(x, width: ch, channels, deltas) { pos, count in
                    let taps: Int
                    if m == 1 && count * 4 >= ch {
                        // Many channels changed: the row Δ[lo..<hi] (zeros elsewhere, which add nothing)
                        // times each tap's kernel row, eight channels at a time.
                        let row = s.row
                        for r in 0..<count where p.channels.contains(Int(channels[r])) { row[Int(channels[r])] = deltas[r] }
                        taps = table.forEachTap(of: pos, touched: p.touched) { o, tap in
                            let out = acc + o * ch, w = k + tap * ch
                            var c = lo
                            while c + 8 <= hi { store8(load8(out + c).addingProduct(load8(row + c), load8(w + c)), out + c); c += 8 }
                            while c < hi { out[c].addProduct(row[c], w[c]); c += 1 }
                        }
                        for r in 0..<count where p.channels.contains(Int(channels[r])) { row[Int(channels[r])] = 0 }
                    } else {
                        taps = table.forEachTap(of: pos, touched: p.touched) { o, tap in
                            let out = acc + o * ch * m, w = k + tap * ch * m
                            for r in 0..<count where p.channels.contains(Int(channels[r])) {
                                let c = Int(channels[r]) * m, dv = deltas[r]
                                for j in 0..<m { out[c + j].addProduct(dv, w[c + j]) }
                            }
                        }
                    }
                    if p.isFirst { macs += taps * count * m }
                }
            }
        }
        return macs
    }
}

/// `Dense` over the last axis: a changed input `k` of row `p` adds `Δ · W[k, :]` to row `p`.
final class DenseStep: LinearStep {
    let kernel: [Float]
    let bias: [Float]
    let inDim: Int, units: Int

    init(name: String, input: Int, output: Int, activation: Pointwise, kernel: [Float], bias: [Float],
         inDim: Int, units: Int, rows: Int) {
        self.kernel = kernel
        self.bias = bias
        self.inDim = inDim
        self.units = units
        super.init(name: name, kind: "dense", input: input, output: output, activation: activation,
                   inputCount: rows * inDim, outputCount: rows * units, groupWidth: units)
    }

    override var denseMACs: Int { outputCount * inDim }
    override var macsPerInputElement: Double { Double(units) }
    override var positionwiseKernel: [Float]? { kernel }

    override func computeDense(_ x: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) throws {
        let rows = outputCount / units
        for r in 0..<rows {
            for j in 0..<units { acc[r * units + j] = bias[j] }
        }
        kernel.withUnsafeBufferPointer { w in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(units), Int32(inDim),
                        1, x, Int32(inDim), w.baseAddress!, Int32(units), 1, acc, Int32(units))
        }
    }

    override var positionWidth: Int { inDim }

    override func scatter(_ x: Slot, state s: LinearState, parts: Int) -> Int {
        let n = units, inDim = self.inDim, acc = s.pending
        var macs = 0
        kernel.withUnsafeBufferPointer { ws in
            // All changed inputs of a row at once: out[row, :] += Σ_k Δ_k · W[k, :],
            // split into runs of the units as a convolution splits its filters.
            s.forEachPart(parts, width: n) { p in
                let lo = p.channels.lowerBound
                forEachChangedPosition(x, width: inDim, p.changedChannels, p.deltas) { row, changes in
                    addRows(acc + row * n + lo, p.channels.count, ws.baseAddress! + lo, ldw: n, p.changedChannels, p.deltas, changes)
                    if let touched = p.touched {
                        touched.insert(row)
                        macs += changes * n
                    }
                }
            }
        }
        return macs
    }
}

// MARK: - Element-wise, merge and pooling

/// An element-wise layer (activation, per-channel map): recomputed where its
/// input changed. It may take over the activation and the delta layer that
/// alone read it (a batch normalization, its rectifier and its delta layer in one pass).
final class PointwiseStep: Step, FusingStep {
    /// A per-channel map, with the float operations of the layer it stands for.
    enum ChannelMap {
        /// `x · scale + shift`: an unfolded batch normalization, an inverted `Normalization`.
        case affine(scale: [Float], shift: [Float])
        /// `x · scale`: `LayerScale`.
        case scale([Float])
        /// `(x − mean) / std`: `Normalization`.
        case standardize(mean: [Float], std: [Float])
        /// `relu(x) − α·relu(−x)`: `PReLU`, `α` over every element of the frame.
        case prelu(alpha: [Float])
    }

    /// Applied after ``channelMap``.
    var activation: Pointwise
    let channelMap: ChannelMap?
    /// The steps of a delta layer fused after it (its output is then the delta layer's), else nil.
    private(set) var fusedStep: [Float]?

    /// Elements of a frame.
    let count: Int
    var outputCount: Int { count }

    init(name: String, kind: String, activation: Pointwise, channelMap: ChannelMap? = nil, input: Int, output: Int, count: Int) {
        self.activation = activation
        self.channelMap = channelMap
        self.count = count
        super.init(name: name, kind: kind, inputs: [input], output: output)
    }

    @inline(__always) private func value(_ x: Float, _ i: Int) -> Float {
        switch channelMap {
        case nil: return x
        case .affine(let scale, let shift): let c = i % scale.count; return x * scale[c] + shift[c]
        case .scale(let scale): return x * scale[i % scale.count]
        case .standardize(let mean, let std): let c = i % mean.count; return (x - mean[c]) / std[c]
        case .prelu(let alpha): return Swift.max(x, 0) - alpha[i % alpha.count] * Swift.max(-x, 0)
        }
    }

    /// A per-channel map takes any element-wise activation after it.
    func takesActivation(_ f: Pointwise) -> Bool { channelMap != nil && activation.isIdentity && fusedStep == nil }
    var takesDelta: Bool { fusedStep == nil }

    func keep(fusedSteps: [Float]) { fusedStep = fusedSteps }

    /// Scratch for a frame where most of the input changed.
    override func makeState() -> AnyObject? { FloatBuffer(count) }

    private func applyAll(_ x: Slot, into y: UnsafeMutablePointer<Float>) throws {
        if channelMap != nil {
            for i in 0..<x.count { y[i] = value(x.value.p[i], i) }
            if !activation.isIdentity { try activation.applyAll(y, y, count: x.count) }
        } else {
            try activation.applyAll(x.value.p, y, count: x.count)
        }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        if fusedStep == nil, dense || x.all {
            try applyAll(x, into: y.value.p)
            y.all = true
            return
        }
        // A fused delta layer lists every change, as the delta layer does.
        defer { if fusedStep != nil { ctx.countDeltas(y) } }
        y.beginSparse()
        if dense || x.all || x.changed.count * 4 > x.count {
            // Most of the frame: the whole-frame function (one call, not a gather), then one vector compare.
            let scratch = (state as! FloatBuffer).p
            try applyAll(x, into: scratch)
            if let fusedStep {
                fusedStep.withUnsafeBufferPointer { y.setAll(scratch, quantizedTo: $0.baseAddress!) }
            } else {
                y.setAll(scratch, quantizedTo: nil)
            }
            return
        }
        let n = x.changed.count, idx = x.changed.p, yv = y.value.p, old = y.previous.p
        for k in 0..<n { let i = Int(idx[k]); old[i] = yv[i] }
        if channelMap != nil {
            for k in 0..<n { let i = Int(idx[k]); yv[i] = value(x.value.p[i], i) }
            if !activation.isIdentity { try activation.apply(yv, yv, indices: idx, count: n) }
        } else {
            try activation.apply(x.value.p, yv, indices: idx, count: n)
        }
        if let fusedStep {
            for k in 0..<n { let i = Int(idx[k]); yv[i] = quantize(yv[i], fusedStep[i]) }
        }
        for k in 0..<n {
            let i = Int(idx[k])
            if yv[i] != old[i] { y.changed.append(i) }
        }
    }
}

/// `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` of same-shape inputs, recomputed where any input changed.
final class MergeStep: Step, FusingStep {
    enum Operation: String { case add, subtract, multiply, average, maximum, minimum }
    let operation: Operation
    let count: Int
    var outputCount: Int { count }
    /// Elements of each input: `count`, or fewer for the channels of an
    /// input broadcast over every position (a squeeze-and-excitation gate).
    let widths: [Int]
    /// A factor on the second input, `x₀ + x₁·scale` (Inception-ResNet's `CustomScaleLayer`).
    let secondScale: Float?

    /// An element-wise activation after the merge, taken over from the step that alone read it.
    var activation: Pointwise = .identity
    /// The steps of a delta layer fused after it (its output is then the delta layer's), else nil.
    private(set) var fusedStep: [Float]?

    /// Elements of each position (the last axis).
    let channels: Int
    /// Two inputs and an operation of one rounding per lane: eight lanes at a time.
    private let vectorizes: Bool
    var positions: Int { count / channels }
    /// Lanes of eight elements (or fewer, at the end of a position) in each position.
    var lanesPerPosition: Int { (channels + 7) / 8 }

    init(name: String, operation: Operation, inputs: [Int], output: Int, shape: [Int], widths: [Int], secondScale: Float? = nil) {
        self.operation = operation
        count = shape.reduce(1, *)
        channels = shape.last ?? 1
        vectorizes = inputs.count == 2 && [.add, .subtract, .multiply, .average].contains(operation)
        self.widths = widths
        self.secondScale = secondScale
        super.init(name: name, kind: secondScale == nil ? operation.rawValue : "scaled add", inputs: inputs, output: output)
    }

    /// The lanes of eight elements that a frame's changes reach.
    override func makeState() -> AnyObject? { IndexBits(positions * lanesPerPosition) }

    /// A clamp or a function on lanes, as a linear epilogue applies them.
    func takesActivation(_ f: Pointwise) -> Bool { activation.isIdentity && fusedStep == nil && f.fusesIntoEpilogue }
    var takesDelta: Bool { fusedStep == nil }

    func keep(fusedSteps: [Float]) { fusedStep = fusedSteps }

    /// The activation and quantization of the fused steps, with their float operations.
    @inline(__always) private func finish(_ v: Float, _ i: Int, _ f: Epilogue, _ q: UnsafePointer<Float>?) -> Float {
        let v = f(v)
        return q.map { quantize(v, $0[i]) } ?? v
    }

    /// ``finish(_:_:_:_:)`` on elements `i..<i+8`.
    @inline(__always) private func finish8(_ v: Float8, _ i: Int, _ f: Epilogue, _ q: UnsafePointer<Float>?) -> Float8 {
        let v = f(v)
        return q.map { quantize(v, load8($0 + i)) } ?? v
    }

    @inline(__always) private func value(_ ctx: FrameContext, _ j: Int, _ i: Int) -> Float {
        ctx.slots[inputs[j]].value.p[widths[j] == count ? i : i % widths[j]]
    }

    @inline(__always) private func compute(_ ctx: FrameContext, _ i: Int) -> Float {
        var v = value(ctx, 0, i)
        for j in inputs.indices.dropFirst() {
            let u = value(ctx, j, i)
            v = apply(v, j == 1 ? secondScale.map { u * $0 } ?? u : u)
        }
        return operation == .average ? v / Float(inputs.count) : v
    }

    /// `v ∘ u` for the operation (a sum for an average, which divides once at the end).
    @inline(__always) private func apply(_ v: Float, _ u: Float) -> Float {
        switch operation {
        case .add, .average: return v + u
        case .subtract: return v - u
        case .multiply: return v * u
        case .maximum: return Swift.max(v, u)
        case .minimum: return Swift.min(v, u)
        }
    }

    /// Two inputs' elements `v` and `u`, as ``compute(_:_:)`` combines them.
    @inline(__always) private func combine(_ v: Float, _ u: Float) -> Float {
        let sum = apply(v, secondScale.map { u * $0 } ?? u)
        return operation == .average ? sum / 2 : sum
    }

    /// ``combine(_:_:)`` on eight lanes, for the operations that vectorize.
    @inline(__always) private func combine8(_ v: Float8, _ u: Float8) -> Float8 {
        let u = secondScale.map { u * $0 } ?? u
        switch operation {
        case .add: return v + u
        case .average: return (v + u) / 2
        case .subtract: return v - u
        default: return v * u
        }
    }

    /// Elements `start..<end` of the position that starts at `position` (a
    /// broadcast input's element `i − position`): written (`record` false) or set where they changed.
    @inline(__always) private func computeRow(_ ctx: FrameContext, _ x: Operands, _ position: Int, _ start: Int, _ end: Int,
                                              _ y: Slot, record: Bool, _ f: Epilogue, _ q: UnsafePointer<Float>?) {
        guard inputs.count == 2 else {
            for i in start..<end {
                let v = finish(compute(ctx, i), i, f, q)
                if record { y.set(i, v) } else { y.value.p[i] = v }
            }
            return
        }
        // A broadcast input's element i − position.
        let a = x.a, b = x.b, sa = x.aBroadcast ? position : 0, sb = x.bBroadcast ? position : 0
        var i = start
        if vectorizes {
            while i &+ 8 <= end {
                let v = finish8(combine8(load8(a + (i &- sa)), load8(b + (i &- sb))), i, f, q)
                if record { y.set8(i, v) } else { store8(v, y.value.p + i) }
                i &+= 8
            }
        }
        while i < end {
            let v = finish(combine(a[i &- sa], b[i &- sb]), i, f, q)
            if record { y.set(i, v) } else { y.value.p[i] = v }
            i &+= 1
        }
    }

    /// The first two inputs' values, and whether each is broadcast over the positions.
    private struct Operands {
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
        let aBroadcast: Bool, bBroadcast: Bool
    }

    private func operands(_ ctx: FrameContext) -> Operands {
        let second = inputs.count > 1 ? 1 : 0
        return Operands(a: ctx.slots[inputs[0]].value.p, b: ctx.slots[inputs[second]].value.p,
                        aBroadcast: widths[0] != count, bBroadcast: widths[second] != count)
    }

    /// Every element, written (`record` false) or set where it changed.
    private func computeAll(_ ctx: FrameContext, _ y: Slot, record: Bool, _ f: Epilogue, _ q: UnsafePointer<Float>?) {
        // Whole positions when an input is broadcast, else the frame at once.
        let row = widths.min()!, x = operands(ctx)
        for start in stride(from: 0, to: count, by: row) { computeRow(ctx, x, start, start, start + row, y, record: record, f, q) }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        if let fusedStep {
            fusedStep.withUnsafeBufferPointer { run(ctx, state: state, dense: dense, $0.baseAddress!) }
            ctx.countDeltas(ctx.slots[output])
        } else {
            run(ctx, state: state, dense: dense, nil)
        }
    }

    /// A frame, quantized to the steps `q` when a delta layer is fused (which lists every change, as the delta layer does).
    private func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool, _ q: UnsafePointer<Float>?) {
        let y = ctx.slots[output], f = activation.epilogue
        if dense || inputs.contains(where: { ctx.slots[$0].all }) {
            if q != nil { y.beginSparse() }
            computeAll(ctx, y, record: q != nil, f, q)
            if q == nil { y.all = true }
            return
        }
        // Changed outputs at most: a broadcast input's change reaches every position.
        let reach = zip(inputs, widths).reduce(0) { $0 + ctx.slots[$1.0].changed.count * (count / $1.1) }
        if reach * 4 > count {
            // Most of the frame: recompute it all, in vectors, and list what changed.
            y.beginSparse()
            computeAll(ctx, y, record: true, f, q)
            return
        }
        // The lanes of eight the changes reach, recomputed in vectors in increasing
        // order: a broadcast input's change reaches its lane at every position.
        let lanes = state as! IndexBits
        let div = FastDivider(channels), lpp = lanesPerPosition, total = positions &* lpp
        for (input, width) in zip(inputs, widths) {
            let x = ctx.slots[input]
            for k in 0..<x.changed.count {
                let i = Int(x.changed.p[k])
                if width == count {
                    let p = div.quotient(i)
                    lanes.insert(p &* lpp &+ (i &- p &* channels) &>> 3)
                } else {
                    for l in stride(from: i &>> 3, to: total, by: lpp) { lanes.insert(l) }
                }
            }
        }
        y.beginSparse()
        if lanes.count * 8 * 3 > count {
            // A third of the frame or more: recompute it all.
            lanes.removeAll()
            computeAll(ctx, y, record: true, f, q)
            return
        }
        let operands = operands(ctx), ldiv = FastDivider(lpp)
        lanes.removeAll { l in
            let p = ldiv.quotient(l), position = p &* channels, start = position &+ (l &- p &* lpp) &* 8
            computeRow(ctx, operands, position, start, Swift.min(start &+ 8, position &+ channels), y, record: true, f, q)
        }
    }
}

/// `Concatenate` on the last axis.
final class ConcatenateStep: Step {
    /// Elements of each input per block: its extent along the axis times those of the axes after it
    /// (its channels, on the last axis).
    let widths: [Int]
    let total: Int

    init(name: String, inputs: [Int], output: Int, widths: [Int]) {
        self.widths = widths
        total = widths.reduce(0, +)
        super.init(name: name, kind: "concatenate", inputs: inputs, output: output)
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let y = ctx.slots[output]
        let whole = dense || inputs.contains(where: { ctx.slots[$0].all })
        if !whole { y.beginSparse() }
        var offset = 0
        for (input, width) in zip(inputs, widths) {
            let x = ctx.slots[input]
            if whole {
                for i in 0..<x.count { y.value.p[(i / width) * total + offset + i % width] = x.value.p[i] }
            } else {
                for k in 0..<x.changed.count {
                    let i = Int(x.changed.p[k])
                    y.set((i / width) * total + offset + i % width, x.value.p[i])
                }
            }
            offset += width
        }
        if whole { y.all = true }
    }
}

/// `Permute` over a frame's axes: a changed element moves to its place in the output.
final class PermuteStep: Step {
    /// For each input element, its output index.
    let target: [Int32]

    /// `permutation[k]`: the input axis that output axis `k` is.
    init(name: String, input: Int, output: Int, inShape: [Int], permutation: [Int]) {
        let outShape = permutation.map { inShape[$0] }
        func strides(_ shape: [Int]) -> [Int] { shape.indices.map { shape[($0 + 1)...].reduce(1, *) } }
        let inStrides = strides(inShape), outStrides = strides(outShape)
        // Where a step along input axis a moves in the output.
        var step = [Int](repeating: 0, count: inShape.count)
        for (k, a) in permutation.enumerated() { step[a] = outStrides[k] }
        target = (0..<inShape.reduce(1, *)).map { i in
            Int32(inShape.indices.reduce(0) { $0 + (i / inStrides[$1]) % inShape[$1] * step[$1] })
        }
        super.init(name: name, kind: "permute", inputs: [input], output: output)
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        if dense || x.all {
            for (i, o) in target.enumerated() { y.value.p[Int(o)] = x.value.p[i] }
            y.all = true
            return
        }
        y.beginSparse()
        for k in 0..<x.changed.count {
            let i = Int(x.changed.p[k])
            y.set(Int(target[i]), x.value.p[i])
        }
    }
}

/// A step over a frame of `positions` × `channels` (the last axis).
class ChannelStep: Step {
    let channels: Int, positions: Int

    init(name: String, kind: String, input: Int, output: Int, shape: [Int]) {
        channels = shape.last!
        positions = shape.reduce(1, *) / channels
        super.init(name: name, kind: kind, inputs: [input], output: output)
    }

    /// Calls `body` once for each position (`byPosition`) or channel of `x` with a change, in increasing order.
    @inline(__always) func forEachChangedUnit(_ x: Slot, _ units: IndexBits, byPosition: Bool, _ body: (Int) -> Void) {
        let div = FastDivider(channels)
        for k in 0..<x.changed.count {
            let i = Int(x.changed.p[k]), p = div.quotient(i)
            units.insert(byPosition ? p : i - p * channels)
        }
        units.removeAll(body)
    }
}

/// `GlobalAveragePooling1D/2D`: keeps per-channel sums and adds the changes.
final class GlobalAverageStep: ChannelStep {
    init(name: String, input: Int, output: Int, shape: [Int]) {
        super.init(name: name, kind: "global average pooling", input: input, output: output, shape: shape)
    }

    override func makeState() -> AnyObject? { SumState(channels) }

    final class SumState {
        let sums: UnsafeMutablePointer<Double>
        let changed: IndexBits
        init(_ c: Int) { sums = .allocate(capacity: c); sums.initialize(repeating: 0, count: c); changed = IndexBits(c) }
        deinit { sums.deallocate() }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let s = state as! SumState
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let sum = s.sums, c = channels, n = Double(positions)
        if dense || x.all {
            for j in 0..<c { sum[j] = 0 }
            for p in 0..<positions { for j in 0..<c { sum[j] += Double(x.value.p[p * c + j]) } }
            for j in 0..<c { y.value.p[j] = Float(sum[j] / n) }
            y.all = true
            return
        }
        y.beginSparse()
        let div = FastDivider(c)
        for k in 0..<x.changed.count {
            let i = Int(x.changed.p[k]), j = i - div.quotient(i) * c
            sum[j] += Double(x.value.p[i]) - Double(x.previous.p[i])
            s.changed.insert(j)
        }
        s.changed.removeAll { j in y.set(j, Float(sum[j] / n)) }
    }
}

/// `GlobalMaxPooling1D/2D`: recomputes the maximum of each channel with a changed input.
final class GlobalMaxStep: ChannelStep {
    init(name: String, input: Int, output: Int, shape: [Int]) {
        super.init(name: name, kind: "global max pooling", input: input, output: output, shape: shape)
    }

    override func makeState() -> AnyObject? { IndexBits(channels) }

    /// The maximum of channel `j` over the positions, from −∞ as `Tensor.max`.
    @inline(__always) private func maximum(_ x: UnsafeMutablePointer<Float>, _ j: Int) -> Float {
        var m = -Float.infinity
        for p in 0..<positions { m = Swift.max(m, x[p &* channels &+ j]) }
        return m
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output], c = channels
        if dense || x.all {
            for j in 0..<c { y.value.p[j] = maximum(x.value.p, j) }
            y.all = true
            return
        }
        y.beginSparse()
        forEachChangedUnit(x, state as! IndexBits, byPosition: false) { j in y.set(j, maximum(x.value.p, j)) }
    }
}

/// Bilinear `UpSampling2D`, and `Resizing` and `CenterCrop` (TensorFlow's
/// half-pixel rule, along the width and then the height, as the layers compute
/// it; bilinear or nearest, after an optional crop box): recomputes the output
/// positions whose interpolation reads a changed input position.
final class ResizeStep: Step {
    /// Along one axis: for each output index the two input indices it reads
    /// and the fraction between them; `picks` when each output copies one
    /// input (nearest, or an axis that keeps its size in `Resizing`).
    struct Axis {
        let lower: [Int], upper: [Int], fraction: [Float]
        let picks: Bool
        /// For each input index, the output indices that read it.
        let readers: [[Int]]

        /// The `n` inputs from `offset` (of `inputSize`) resized to `count`;
        /// an axis that keeps its size is copied when `copiesEqualSize`.
        init(from n: Int, offset: Int = 0, of inputSize: Int, to count: Int, nearest: Bool, copiesEqualSize: Bool) {
            let scale = Float(n) / Float(count), copies = copiesEqualSize && n == count
            var lower: [Int] = [], upper: [Int] = [], fraction: [Float] = []
            for i in 0..<count {
                if copies || nearest {
                    let pick = copies ? i : Swift.max(0, Swift.min(Int(((Float(i) + 0.5) * scale).rounded(.down)), n - 1))
                    lower.append(offset + pick)
                    upper.append(offset + pick)
                    fraction.append(0)
                    continue
                }
                let position = (Float(i) + 0.5) * scale - 0.5
                let floor = position.rounded(.down)
                lower.append(offset + Swift.max(Int(floor), 0))
                upper.append(offset + Swift.min(Int(position.rounded(.up)), n - 1))
                fraction.append(position - floor)
            }
            var readers = [[Int]](repeating: [], count: inputSize)
            for i in 0..<count {
                readers[lower[i]].append(i)
                if upper[i] != lower[i] { readers[upper[i]].append(i) }
            }
            (self.lower, self.upper, self.fraction, self.picks, self.readers) = (lower, upper, fraction, copies || nearest, readers)
        }

        /// `a + (b − a)·f` for output index `i`, one rounding per operation as the Tensor ops do.
        @inline(__always) func interpolate(_ a: Float8, _ b: Float8, _ i: Int) -> Float8 {
            picks ? a : a + (b - a) * Float8(repeating: fraction[i])
        }

        @inline(__always) func interpolate(_ a: Float, _ b: Float, _ i: Int) -> Float {
            picks ? a : a + (b - a) * fraction[i]
        }
    }

    let rows: Axis, columns: Axis
    let inW: Int, channels: Int

    /// `inShape` `[height, width, channels]`; `box` `(top, left, height, width)`
    /// the part of the frame resized (the whole frame when nil).
    init(name: String, input: Int, output: Int, inShape: [Int], box: (Int, Int, Int, Int)? = nil,
         outHeight: Int, outWidth: Int, nearest: Bool = false, copiesEqualSizes: Bool) {
        let (top, left, height, width) = box ?? (0, 0, inShape[0], inShape[1])
        rows = Axis(from: height, offset: top, of: inShape[0], to: outHeight, nearest: nearest, copiesEqualSize: copiesEqualSizes)
        columns = Axis(from: width, offset: left, of: inShape[1], to: outWidth, nearest: nearest, copiesEqualSize: copiesEqualSizes)
        inW = inShape[1]
        channels = inShape[2]
        super.init(name: name, kind: nearest ? "nearest resize" : "bilinear resize", inputs: [input], output: output)
    }

    override func makeState() -> AnyObject? { IndexBits(rows.lower.count * columns.lower.count) }

    /// The channels of output position `o`, written to `y` directly (`record` false) or recorded where they change.
    @inline(__always) private func compute(_ x: UnsafeMutablePointer<Float>, _ o: Int, _ y: Slot, record: Bool) {
        let i = o / columns.lower.count, j = o % columns.lower.count, c = channels
        let top = rows.lower[i] * inW, bottom = rows.upper[i] * inW
        let left = columns.lower[j], right = columns.upper[j]
        let p00 = x + (top + left) * c, p01 = x + (top + right) * c, p10 = x + (bottom + left) * c, p11 = x + (bottom + right) * c
        let base = o * c
        var k = 0
        while k + 8 <= c {
            let t = columns.interpolate(load8(p00 + k), load8(p01 + k), j), b = columns.interpolate(load8(p10 + k), load8(p11 + k), j)
            let v = rows.interpolate(t, b, i)
            if record { y.set8(base + k, v) } else { store8(v, y.value.p + base + k) }
            k += 8
        }
        while k < c {
            let v = rows.interpolate(columns.interpolate(p00[k], p01[k], j), columns.interpolate(p10[k], p11[k], j), i)
            if record { y.set(base + k, v) } else { y.value.p[base + k] = v }
            k += 1
        }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        let positions = rows.lower.count * columns.lower.count
        if dense || x.all {
            for o in 0..<positions { compute(x.value.p, o, y, record: false) }
            y.all = true
            return
        }
        y.beginSparse()
        let touched = state as! IndexBits
        forEachChangedPosition(x, width: channels) { p in
            for i in rows.readers[p / inW] { for j in columns.readers[p % inW] { touched.insert(i * columns.lower.count + j) } }
        }
        touched.removeAll { o in compute(x.value.p, o, y, record: true) }
    }
}

/// `UpSampling1D/2D` with nearest neighbours: each changed input element is
/// copied to the `size` block of outputs it fills.
final class UpSamplingStep: Step {
    let channels: Int
    /// Input width and the factors (1-D: height 1, factor 1 over it).
    let inW: Int, sizeH: Int, sizeW: Int

    init(name: String, input: Int, output: Int, inShape: [Int], size: [Int]) {
        channels = inShape.last!
        inW = inShape.count == 3 ? inShape[1] : inShape[0]
        (sizeH, sizeW) = size.count == 2 ? (size[0], size[1]) : (1, size[0])
        super.init(name: name, kind: "up-sampling", inputs: [input], output: output)
    }

    /// Sets the outputs of input element `i` (position `p`, channel `j`) to `v`, recording changes when `record`.
    @inline(__always) private func spread(_ p: Int, _ j: Int, _ v: Float, _ y: Slot, record: Bool) {
        let iy = p / inW, ix = p - iy * inW, outW = inW * sizeW
        for a in 0..<sizeH {
            for b in 0..<sizeW {
                let o = ((iy * sizeH + a) * outW + ix * sizeW + b) * channels + j
                if record { y.set(o, v) } else { y.value.p[o] = v }
            }
        }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output], c = channels
        if dense || x.all {
            for i in 0..<x.count { spread(i / c, i % c, x.value.p[i], y, record: false) }
            y.all = true
            return
        }
        y.beginSparse()
        let div = FastDivider(c)
        for k in 0..<x.changed.count {
            let i = Int(x.changed.p[k]), p = div.quotient(i)
            spread(p, i - p * c, x.value.p[i], y, record: true)
        }
    }
}

/// `MaxPooling1D/2D`, `AveragePooling1D/2D`: recomputes the windows that hold a changed input.
final class PoolStep: Step {
    let window: Window2D
    let channels: Int
    let isMax: Bool
    let outputCount: Int
    let scatter: WindowTable
    let windows: WindowTable

    init(name: String, isMax: Bool, input: Int, output: Int, inShape: [Int], outShape: [Int],
         poolSize: [Int], strides: [Int], padding: Padding) {
        channels = inShape.last!
        self.isMax = isMax
        outputCount = outShape.reduce(1, *)
        window = Window2D(inSpatial: Array(inShape.dropLast()), outSpatial: Array(outShape.dropLast()),
                          kernel: poolSize, strides: strides, dilation: poolSize.map { _ in 1 }, padding: padding)
        scatter = window.scatterTable()
        windows = window.windowTable()
        super.init(name: name, kind: isMax ? "max pooling" : "average pooling", inputs: [input], output: output)
    }

    override func makeState() -> AnyObject? { IndexBits(outputCount / channels) }

    /// The pooled channels of output position `o`, eight at a time: written to `y`
    /// directly (`record` false) or recorded where they change.
    @inline(__always) private func poolRow(_ x: UnsafeMutablePointer<Float>, _ o: Int, _ y: Slot, record: Bool) {
        let ch = channels, inputs = windows.rows(o), base = o * ch
        let scale = Float(inputs.count)
        var c = 0
        while c + 8 <= ch {
            var acc: Float8
            if isMax {
                acc = Float8(repeating: -.infinity)
                // Swift.max(acc, v), lane by lane.
                for t in inputs { let v = load8(x + windows[t, 0] * ch + c); acc = acc.replacing(with: v, where: v .>= acc) }
            } else {
                acc = Float8(repeating: 0)
                for t in inputs { acc += load8(x + windows[t, 0] * ch + c) }
                acc /= Float8(repeating: scale)
            }
            if record { y.set8(base + c, acc) } else { store8(acc, y.value.p + base + c) }
            c += 8
        }
        while c < ch {
            var acc: Float
            if isMax {
                acc = -.infinity
                for t in inputs { acc = Swift.max(acc, x[windows[t, 0] * ch + c]) }
            } else {
                acc = 0
                for t in inputs { acc += x[windows[t, 0] * ch + c] }
                acc = acc / scale
            }
            if record { y.set(base + c, acc) } else { y.value.p[base + c] = acc }
            c += 1
        }
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output]
        if dense || x.all {
            for o in 0..<(outputCount / channels) { poolRow(x.value.p, o, y, record: false) }
            y.all = true
            return
        }
        y.beginSparse()
        if x.changed.count * 8 > x.count {
            // Many changes: every window, recording what changed, costs less than finding the windows they touch.
            for o in 0..<(outputCount / channels) { poolRow(x.value.p, o, y, record: true) }
            return
        }
        // Every window that holds a changed input position, once, all its
        // channels, in the order of the windows: reads and the changes it lists go forward.
        let windows = state as! IndexBits
        forEachChangedPosition(x, width: channels) { pos in
            for t in scatter.rows(pos) { windows.insert(scatter[t, 0]) }
        }
        windows.removeAll { o in poolRow(x.value.p, o, y, record: true) }
    }
}

/// A layer over the channels of each position: recomputes every channel of a
/// position where any changed.
class ChannelRowStep: ChannelStep {
    override func makeState() -> AnyObject? { IndexBits(positions) }

    /// Computes the channels of the position at `base`, recording changes or (`record` false) writing directly.
    func compute(_ x: UnsafeMutablePointer<Float>, _ base: Int, _ y: Slot, record: Bool) {}

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output], c = channels
        if dense || x.all {
            for base in stride(from: 0, to: x.count, by: c) { compute(x.value.p, base, y, record: false) }
            y.all = true
            return
        }
        y.beginSparse()
        forEachChangedUnit(x, state as! IndexBits, byPosition: true) { p in compute(x.value.p, p * c, y, record: true) }
    }
}

/// `LayerNormalization` over the channels, with the float operations of the
/// layer (sequential sums, `rsqrt(variance + ε)·γ`, `x·inv + (β − mean·inv)`;
/// with `rms_scaling`, Keras 3's `x·rsqrt(variance + ε)·γ`).
final class LayerNormStep: ChannelRowStep {
    let gamma: [Float]?, beta: [Float]?
    let epsilon: Float
    let rmsScaling: Bool

    init(name: String, input: Int, output: Int, shape: [Int], gamma: [Float]?, beta: [Float]?, epsilon: Float, rmsScaling: Bool) {
        self.gamma = gamma
        self.beta = beta
        self.epsilon = epsilon
        self.rmsScaling = rmsScaling
        super.init(name: name, kind: "layer normalization", input: input, output: output, shape: shape)
    }

    override func compute(_ x: UnsafeMutablePointer<Float>, _ base: Int, _ y: Slot, record: Bool) {
        let c = channels, v = x + base, scale = 1 / Float(c)
        var sum: Float = 0
        for k in 0..<c { sum = sum + v[k] }
        let mean = sum * scale
        var squares: Float = 0
        for k in 0..<c { let d = v[k] - mean; squares = squares + d * d }
        let r = 1 / (squares * scale + epsilon).squareRoot()
        if rmsScaling {
            for k in 0..<c {
                let out = gamma.map { v[k] * r * $0[k] } ?? v[k] * r
                if record { y.set(base + k, out) } else { y.value.p[base + k] = out }
            }
            return
        }
        for k in 0..<c {
            let inv = gamma.map { r * $0[k] } ?? r
            let shift = beta.map { $0[k] - mean * inv } ?? -(mean * inv)
            let out = v[k] * inv + shift
            if record { y.set(base + k, out) } else { y.value.p[base + k] = out }
        }
    }
}

/// Softmax over the channels (`Activation("softmax")`, `Softmax(axis=-1)`).
final class SoftmaxStep: ChannelRowStep {
    init(name: String, input: Int, output: Int, shape: [Int]) {
        super.init(name: name, kind: "softmax", input: input, output: output, shape: shape)
    }

    override func compute(_ x: UnsafeMutablePointer<Float>, _ base: Int, _ y: Slot, record: Bool) {
        guard record else { return softmaxRow(x + base, y.value.p + base, channels) }
        // softmaxRow's operations, each exp computed again rather than stored.
        let m = rowMaximum(x + base, channels)
        var sum: Float = 0
        for k in base..<(base + channels) { sum = sum + Foundation.exp(x[k] - m) }
        for k in base..<(base + channels) { y.set(k, Foundation.exp(x[k] - m) / sum) }
    }
}

/// `Tensor.softmax(axis: -1)` on one row of `n`, with its float operations in its order:
/// the maximum from −∞, `exp(x − max)`, the sum from 0, then each exp ÷ the sum.
@inline(__always) func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = rowMaximum(x, n)
    var sum: Float = 0
    for k in 0..<n { y[k] = Foundation.exp(x[k] - m); sum = sum + y[k] }
    for k in 0..<n { y[k] = y[k] / sum }
}

@inline(__always) func rowMaximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for k in 0..<n { m = Swift.max(m, x[k]) }
    return m
}

/// `ZeroPadding1D/2D`, `Cropping1D/2D`: each changed input element moves to
/// its place in the output; padding stays zero and cropped elements drop.
final class MarginStep: Step {
    let channels: Int
    /// For each input position, its output position, or −1 when cropped away.
    let target: [Int32]

    /// `offsets`: per spatial axis, where input index 0 lands in the output
    /// (the padding before, or minus the cropping before).
    init(name: String, kind: String, input: Int, output: Int, inShape: [Int], outShape: [Int], offsets: [Int]) {
        channels = inShape.last!
        let inSpatial = Array(inShape.dropLast()), outSpatial = Array(outShape.dropLast())
        var target: [Int32] = []
        target.reserveCapacity(inSpatial.reduce(1, *))
        // Row-major over the spatial axes, the last fastest.
        func visit(_ axis: Int, _ inside: Int) {
            guard axis < inSpatial.count else { target.append(Int32(inside)); return }
            for i in 0..<inSpatial[axis] {
                let o = i + offsets[axis]
                if o < 0 || o >= outSpatial[axis] {
                    for _ in 0..<inSpatial[(axis + 1)...].reduce(1, *) { target.append(-1) }
                } else {
                    visit(axis + 1, inside * outSpatial[axis] + o)
                }
            }
        }
        visit(0, 0)
        self.target = target
        super.init(name: name, kind: kind, inputs: [input], output: output)
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let x = ctx.slots[inputs[0]], y = ctx.slots[output], c = channels
        if dense || x.all {
            for (p, o) in target.enumerated() where o >= 0 {
                (y.value.p + Int(o) * c).update(from: x.value.p + p * c, count: c)
            }
            y.all = true
            return
        }
        y.beginSparse()
        let div = FastDivider(c)
        for k in 0..<x.changed.count {
            let i = Int(x.changed.p[k]), p = div.quotient(i), o = Int(target[p])
            if o >= 0 { y.set(o * c + i - p * c, x.value.p[i]) }
        }
    }
}

/// Any other layer: called on the whole frame, and its output compared with the previous one.
final class LayerStep: Step {
    let layer: Layer
    let inputShapes: [[Int]]

    init(name: String, layer: Layer, inputs: [Int], output: Int, inputShapes: [[Int]]) {
        self.layer = layer
        self.inputShapes = inputShapes
        super.init(name: name, kind: "layer call (\(type(of: layer).className))", inputs: inputs, output: output)
    }

    override func run(_ ctx: FrameContext, state: AnyObject?, dense: Bool) throws {
        let xs = ctx.slots
        if !dense && inputs.allSatisfy({ !xs[$0].all && xs[$0].changed.count == 0 }) {
            ctx.slots[output].beginSparse()
            return
        }
        let args = zip(inputs, inputShapes).map { i, shape in
            Tensor(shape: [1] + shape, scalars: xs[i].value.array)
        }
        let y = try layer(args, training: false)[0]
        let out = ctx.slots[output]
        guard y.count == out.count else {
            throw StreamingError.unsupported(layer: name, "returned \(y.count) values for an output of \(out.count)")
        }
        out.beginSparse()
        y.scalars.withUnsafeBufferPointer { ys in
            for i in 0..<out.count { out.set(i, ys[i]) }
        }
        if dense { out.all = true }
    }
}
