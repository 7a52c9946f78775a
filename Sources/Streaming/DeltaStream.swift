import Dispatch
import Synchronization
import Tensor

/// Counters of a stream since its last reset.
public struct StreamStatistics: Sendable, Equatable {
    /// Frames processed, and how many of them were key frames (dense recomputes).
    public var frames = 0
    public var keyFrames = 0
    /// Multiply-accumulates the engine did.
    public var macs = 0
    /// MACs of running every frame densely.
    public var denseMACs = 0
    /// MACs of `W·Δ` over the non-zero input deltas of the linear layers, on frames after the first.
    public var deltaMACs = 0
    /// Dense MACs of the frames after the first (the baseline of ``deltaMACs``).
    public var denseMACsAfterFirst = 0
    /// Non-zero deltas and delta elements of the delta layers, on frames after the first.
    public var deltaNonZero = 0
    public var deltaElements = 0
    /// Step outputs that changed everywhere on frames that were not key frames
    /// (dense fallbacks and whole-group activations such as a softmax head).
    public var denseOutputs = 0

    public init() {}

    /// Non-zero deltas per delta element (frames after the first).
    public var deltaDensity: Double { deltaElements == 0 ? 0 : Double(deltaNonZero) / Double(deltaElements) }
    /// Dense MACs ÷ delta MACs (frames after the first).
    public var theoreticalSpeedup: Double { deltaMACs == 0 ? .infinity : Double(denseMACsAfterFirst) / Double(deltaMACs) }
}

/// One stream of frames through a ``StreamingPlan``: the state of every step
/// (previous delta outputs, linear accumulators). Use one stream per video
/// and per thread; streams of the same plan run at once on different threads.
/// A frame that runs while no other stream runs one splits its larger delta
/// updates over all cores; the outputs are the same floats either way.
///
/// ```swift
/// let stream = plan.makeStream()
/// let logits = try stream.process([frame])[0]   // [1, classes]
/// stream.reset()                                 // a new video
///
/// // A clip model: its outputs come once per clip, `plan.latency` frames late.
/// for frame in video { if let y = try clipStream.push([frame]) { print(y[0]) } }
/// let last = try clipStream.finish()             // the clips still in flight
/// ```
public final class DeltaStream {
    public let plan: StreamingPlan
    public private(set) var statistics = StreamStatistics()
    /// Run every frame densely (the dense baseline on the same engine).
    public var alwaysDense = false
    /// Time each step (``stepNanoseconds``); off by default.
    public var profile = false
    /// Nanoseconds spent in each step of ``StreamingPlan/steps`` since the last reset, when ``profile`` is on.
    public private(set) var stepNanoseconds: [UInt64]
    /// Output elements each step marked as changed since the last reset (all of them for a dense output), when ``profile`` is on.
    public private(set) var stepChanges: [Int]

    /// Streams of any plan running a frame now.
    private static let running = Atomic<Int>(0)
    /// At most this many parts per split, and at most one per core (tests set 1 for the unsplit run).
    var maximumParts = Parallelism.cores
    /// Multiply-adds per part below which splitting a step's delta work over
    /// the pool costs more than it saves (an epilogue element counts as 16):
    /// measured on 2 cores, a 32×32 model's 0.4 M-MAC scatters ran slower
    /// split, a 112×112 model's 1–2 M-MAC scatters faster (BENCHMARKS.md § Streaming).
    var minimumWorkPerPart = 512 * 1024

    private let slots: [Slot]
    private var states: [AnyObject?]
    /// Whether each step has run since the reset (its first run is dense).
    private var ran: [Bool]
    private var frameIndex = 0
    /// Frames pushed and outputs emitted since the reset.
    private var pushed = 0, emitted = 0

    init(plan: StreamingPlan) {
        self.plan = plan
        slots = plan.slotSizes.map { Slot($0) }
        states = plan.kernels.map { $0.makeState() }
        ran = [Bool](repeating: false, count: plan.kernels.count)
        stepNanoseconds = [UInt64](repeating: 0, count: plan.kernels.count)
        stepChanges = [Int](repeating: 0, count: plan.kernels.count)
    }

    /// Forgets all state: the next frame is a key frame and every delta layer
    /// emits its full value. Also clears ``statistics`` and the profile.
    public func reset() {
        restart()
        statistics = StreamStatistics()
        stepNanoseconds = [UInt64](repeating: 0, count: plan.kernels.count)
        stepChanges = [Int](repeating: 0, count: plan.kernels.count)
    }

    /// Forgets the state of every step: the next frame starts a new video.
    private func restart() {
        for s in slots { s.value.zero(); s.all = true; s.fresh = true; s.changed.count = 0 }
        states = plan.kernels.map { $0.makeState() }
        ran = [Bool](repeating: false, count: plan.kernels.count)
        frameIndex = 0
        pushed = 0
        emitted = 0
    }

    /// Runs one frame per model input (`[1, frame...]` or `[frame...]`) of a
    /// per-frame model and returns the model outputs for it, each `[1, ...]`.
    /// - Throws: for a clip model (``StreamingPlan/clipLength`` set): use ``push(_:)``.
    public func process(_ frames: [Tensor]) throws -> [Tensor] {
        guard plan.clipLength == nil else {
            throw StreamingError.badArgument("frames", "the model sees clips of \(plan.clipLength!) frames: "
                                             + "push(_:) its frames and finish() the video")
        }
        return try push(frames)!
    }

    /// Feeds one frame per model input (`[1, frame...]` or `[frame...]`) and
    /// returns the model outputs that became ready, each `[1, ...]`, or nil.
    /// A per-frame model returns its outputs for this frame; a clip model
    /// returns a clip's outputs ``StreamingPlan/latency`` frames after the
    /// clip's last frame (call ``finish()`` after the video's last frame).
    public func push(_ frames: [Tensor]) throws -> [Tensor]? {
        guard frames.count == plan.inputSlots.count else {
            throw StreamingError.badArgument("frames", "needs \(plan.inputSlots.count) frame(s), one per model input, got \(frames.count)")
        }
        for (k, (frame, slot)) in zip(frames, plan.inputSlots).enumerated() {
            let s = slots[slot]
            guard frame.count == s.count, frame.shape == plan.inputShapes[k] || frame.shape == [1] + plan.inputShapes[k] else {
                throw StreamingError.badArgument("frames", "input \(k) must have shape \([1] + plan.inputShapes[k]), got \(frame.shape)")
            }
        }
        for (frame, slot) in zip(frames, plan.inputSlots) {
            let s = slots[slot]
            frame.scalars.withUnsafeBufferPointer { s.value.p.update(from: $0.baseAddress!, count: s.count) }
            s.all = true
        }
        pushed += 1
        return try pass()
    }

    /// Runs the frames a clip model still holds through (its
    /// ``StreamingPlan/latency``) and returns the outputs of the video's
    /// complete clips that were not returned yet; a last clip with fewer
    /// frames than the model's clip length gives none. The next frame then
    /// starts a new video; ``statistics`` keep counting until ``reset()``.
    public func finish() throws -> [[Tensor]] {
        defer { restart() }
        guard let clip = plan.clipLength else { return [] }
        let due = pushed / clip * plan.outputsPerClip
        var outputs: [[Tensor]] = []
        var passes = 0
        while emitted < due, passes <= plan.latency + clip {
            // A frame that repeats the last one: no change, and the taps that would read it lie past the clip's end.
            for slot in plan.inputSlots { slots[slot].beginSparse() }
            if let y = try pass() { outputs.append(y) }
            passes += 1
        }
        return outputs
    }

    /// Runs the steps on the input slots' new values.
    private func pass() throws -> [Tensor]? {
        let every = plan.options.keyFrameEvery
        let key = alwaysDense || frameIndex == 0 || (every > 0 && frameIndex % every == 0)
        let others = Self.running.add(1, ordering: .relaxed).oldValue
        defer { Self.running.subtract(1, ordering: .relaxed) }
        let ctx = FrameContext(slots: slots, denseCutoff: plan.options.denseCutoff,
                               parts: others == 0 ? Swift.min(maximumParts, Parallelism.cores) : 1,
                               minimumWorkPerPart: minimumWorkPerPart)
        for slot in plan.inputSlots { slots[slot].fresh = true }
        for (k, (step, state)) in zip(plan.kernels, states).enumerated() {
            let y = slots[step.output]
            guard step.inputs.allSatisfy({ slots[$0].fresh }) else { y.fresh = false; continue }
            y.fresh = true
            let dense = key || !ran[k]
            ran[k] = true
            if profile {
                let start = DispatchTime.now().uptimeNanoseconds
                try step.run(ctx, state: state, dense: dense)
                stepNanoseconds[k] += DispatchTime.now().uptimeNanoseconds - start
                if y.fresh { stepChanges[k] += y.all ? y.count : y.changed.count }
            } else {
                try step.run(ctx, state: state, dense: dense)
            }
            if !dense && y.fresh && y.all { statistics.denseOutputs += 1 }
        }
        statistics.frames += 1
        statistics.macs += ctx.macs
        statistics.denseMACs += plan.denseMACsPerFrame
        if key { statistics.keyFrames += 1 }
        if frameIndex > 0 {
            statistics.deltaMACs += ctx.deltaMACs
            statistics.denseMACsAfterFirst += plan.denseMACsPerFrame
            statistics.deltaNonZero += ctx.deltaNonZero
            statistics.deltaElements += ctx.deltaElements
        }
        frameIndex += 1
        guard plan.outputSlots.allSatisfy({ slots[$0].fresh }) else { return nil }
        emitted += 1
        return zip(plan.outputSlots, plan.outputShapes).map { slot, shape in
            Tensor(shape: [1] + shape, scalars: slots[slot].value.array)
        }
    }

    /// ``process(_:)`` for a single-input model.
    public func process(_ frame: Tensor) throws -> [Tensor] { try process([frame]) }
}
