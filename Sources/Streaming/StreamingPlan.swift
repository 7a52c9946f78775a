import Layers
import Tensor

/// Options of ``StreamingPlan``.
public struct StreamingOptions: Sendable {
    /// A dense recompute every this many frames bounds float drift; 0 means
    /// only the first frame after a reset is dense.
    public var keyFrameEvery = 0
    /// A linear layer whose changed inputs exceed this fraction recomputes
    /// densely (one GEMM beats many scattered updates).
    public var denseCutoff = 0.5

    public init(keyFrameEvery: Int = 0, denseCutoff: Double = 0.5) {
        self.keyFrameEvery = keyFrameEvery
        self.denseCutoff = denseCutoff
    }
}

/// One step of a plan, as the plan reports it.
public struct PlanStep: Sendable, Equatable {
    /// The layer (with `+name` for a batch normalization or layer scale folded into it).
    public var name: String
    /// `delta`, `conv`, `depthwise conv`, `dense`, `relu`-like element-wise, merges, pooling, `softmax`, …, or a layer call.
    public var kind: String
    /// Whether the step always runs dense because no delta layer precedes it.
    public var denseFallback: Bool
    /// MACs of a dense run on one frame (linear steps).
    public var denseMACs: Int
    /// Elements of the step's output on one frame.
    public var outputCount: Int
}

/// A delta model compiled for streaming, one frame at a time.
///
/// The plan is derived from the model's execution order (one step per node,
/// a batch normalization or layer scale folded into the linear layer before it, shape-only
/// and inference-identity layers as aliases). It holds the weights and is
/// shared: each ``DeltaStream`` made from it keeps its own state. A clip
/// model (an explicit time axis) streams too: ``clipLength`` and ``latency``
/// say how its frames become clips and when each clip's output comes.
///
/// ```swift
/// let plan = try StreamingPlan(model, options: StreamingOptions(keyFrameEvery: 64))
/// let stream = plan.makeStream()
/// for frame in frames { let y = try stream.process([frame])[0] }   // frame: [1, H, W, C]
/// ```
public final class StreamingPlan: @unchecked Sendable {
    public let options: StreamingOptions
    /// The steps in execution order.
    public let steps: [PlanStep]
    /// Per-frame shapes of the model inputs and outputs (no batch axis).
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]
    /// MACs of a dense run of the linear steps on one frame.
    public let denseMACsPerFrame: Int

    /// Frames per clip of a clip model (an explicit time axis, delta layers
    /// with `clip_length` null), else nil: the stream then cuts its frames
    /// into clips as the clip forward sees them.
    public let clipLength: Int?
    /// Input frames the outputs lag behind the input: a temporal convolution's
    /// output frame waits for the frames its kernel reads after it.
    public let latency: Int

    let kernels: [Step]
    let slotSizes: [Int]
    let inputSlots: [Int]
    let outputSlots: [Int]
    /// Outputs each clip yields (1 for per-clip outputs, else its frames at the outputs).
    let outputsPerClip: Int

    /// Compiles `model`: a per-frame model whose delta layers see frames as
    /// the batch (`clip_length` set), or a clip model with an explicit time
    /// axis (`[batch, time, ...]`, delta layers with `clip_length` null).
    /// - Throws: ``StreamingError`` for a layer the engine cannot stream, or unknown frame sizes.
    public init(_ model: Model, options: StreamingOptions = StreamingOptions()) throws {
        guard options.keyFrameEvery >= 0 else {
            throw StreamingError.badArgument("keyFrameEvery", "must be 0 or a positive number of frames, got \(options.keyFrameEvery)")
        }
        guard options.denseCutoff >= 0 else {
            throw StreamingError.badArgument("denseCutoff", "must be non-negative, got \(options.denseCutoff)")
        }
        self.options = options
        let clipLength = try Self.clipLength(of: model)
        self.clipLength = clipLength
        var sizes: [Int] = []
        var fromInput: [Bool] = []
        var timing: [SlotTiming] = []
        var steps: [Step] = []
        var shapeOf: [Int: [Int]] = [:]

        func frameShape(_ shape: Shape, timed: Bool, _ what: String) throws -> [Int] {
            let dims = shape.dropFirst(timed ? 2 : 1)
            guard shape.count > (timed ? 1 : 0), dims.allSatisfy({ $0 != nil }) else {
                throw StreamingError.unsupported(layer: what, "needs known frame sizes, got \(formatShape(shape))")
            }
            return dims.map { $0! }
        }
        func newSlot(_ shape: [Int], dense: Bool, timing t: SlotTiming = SlotTiming()) -> Int {
            sizes.append(shape.reduce(1, *))
            fromInput.append(dense)
            timing.append(t)
            shapeOf[sizes.count - 1] = shape
            return sizes.count - 1
        }

        var inputs: [Int] = [], inShapes: [[Int]] = []
        for t in model.inputs {
            let s = try frameShape(t.shape, timed: clipLength != nil, t.layer.name)
            inShapes.append(s)
            inputs.append(newSlot(s, dense: true, timing: SlotTiming(overTime: clipLength != nil, clip: clipLength ?? 0)))
        }
        let readCounts = model.readCounts
        let outputIDs = Set(model.outputs.map { $0.id })
        var skipped = Set<ObjectIdentifier>()
        var foldedInto: [ObjectIdentifier: (scale: FoldedScale, consumer: Node)] = [:]
        for node in model.executionOrder {
            let layer = unwrapped(node.layer)
            guard isLinear(layer, clip: clipLength != nil), hasLinearActivation(layer), node.outputIDs.count == 1,
                  readCounts[node.outputIDs[0]] == 1, !outputIDs.contains(node.outputIDs[0]),
                  let consumer = model.executionOrder.first(where: { $0.inputs.contains { $0.id == node.outputIDs[0] } }),
                  (consumer.layer is TimeDistributed) == (node.layer is TimeDistributed),
                  let scale = FoldedScale(unwrapped(consumer.layer), rank: layerRank(node))
            else { continue }
            foldedInto[ObjectIdentifier(node)] = (scale, consumer)
            skipped.insert(ObjectIdentifier(consumer))
        }

        let outs = try model.runThroughGraph(inputs, skipping: skipped) { node, args, values in
            guard node.outputIDs.count == 1 else {
                throw StreamingError.unsupported(layer: node.layer.name, "has \(node.outputIDs.count) outputs; streaming needs one")
            }
            let time = timing[args[0]], overTime = args.contains { timing[$0].overTime }
            if overTime, args.contains(where: { timing[$0] != time }) {
                throw StreamingError.unsupported(layer: node.layer.name, args.allSatisfy { timing[$0].overTime }
                                                 ? "joins branches at different delays over time (after different temporal convolutions)"
                                                 : "joins frames of a clip with per-clip values")
            }
            // A TimeDistributed layer runs its layer on each frame.
            let layer = overTime ? unwrapped(node.layer) : node.layer
            let inShapes = try zip(node.inputs, args).map { try frameShape($0.shape, timed: timing[$1].overTime, layer.name) }
            let perClip = overTime && !(node.layer is TimeDistributed) && readsWholeClip(layer)
            let outTimed = overTime && !perClip
            let outShape = try frameShape(node.outputShapes[0], timed: outTimed, layer.name)
            let dense = args.allSatisfy { fromInput[$0] }
            if overTime, !(node.layer is TimeDistributed), layer is Reshape {
                throw StreamingError.unsupported(layer: layer.name, "reshapes across the time axis")
            }
            var outTiming = time
            outTiming.overTime = outTimed
            // A recurrent layer steps once per frame, whether it returns its sequence or its last output;
            // one that reads backwards and returns its last output is called once per clip (below).
            if overTime, !(node.layer is TimeDistributed), let r = layer as? RNN, r.returnSequences || !r.goBackwards {
                guard !r.goBackwards, !r.timeMajor else {
                    throw StreamingError.unsupported(layer: r.name, "returns a sequence it reads backwards in time (go_backwards) "
                                                     + "or is time-major; the engine steps recurrent layers forwards, frame by frame")
                }
                let out = newSlot(outShape, dense: dense, timing: outTiming)
                steps.append(try RecurrentStep(name: r.name, layer: r, input: args[0], output: out, frameShape: inShapes[0],
                                               outShape: outShape, clipLength: time.clip))
                return [out]
            }
            if perClip, !(layer is GlobalAveragePooling3D || layer is GlobalAveragePooling1D) {
                let out = newSlot(outShape, dense: dense, timing: outTiming)
                steps.append(ClipGatherStep(name: layer.name, layer: layer, input: args[0], output: out, frameShape: inShapes[0],
                                            outShape: outShape, clipLength: time.clip))
                return [out]
            }
            // Inference identities and shape-only layers share their input's slot.
            if isAlias(layer), args.count == 1 { return args }
            if let d = layer as? DeltaActivation, d.clipLength == nil, clipLength == nil {
                throw StreamingError.unsupported(layer: layer.name, "has an explicit time axis (clip_length null); "
                                                 + "streaming handles frames-as-batch models only")
            }
            let out = newSlot(outShape, dense: dense && !(layer is DeltaActivation), timing: outTiming)
            let folded = foldedInto[ObjectIdentifier(node)]
            let made: [Step]
            if overTime, !(node.layer is TimeDistributed), let step = try makeTemporalStep(layer, args: args, inShapes: inShapes, outShape: outShape, output: out,
                                                          folded: folded?.scale, clipLength: time.clip) {
                made = [step]
                if let c = step as? TemporalConvStep {
                    timing[out].lag += c.lag * time.rate
                    timing[out].clip = c.clipOut
                } else if let p = step as? TemporalPoolStep {
                    timing[out].clip = p.clipOut
                    timing[out].rate *= p.window
                }
            } else {
                made = try makeSteps(layer, args: args, inShapes: inShapes, outShape: outShape, output: out,
                                     layerRank: layerRank(node), folded: folded?.scale) {
                    newSlot($0, dense: dense, timing: outTiming)
                }
                // A layer call sees one frame; only a TimeDistributed layer is known to work frame by frame.
                if overTime, !(node.layer is TimeDistributed), made.contains(where: { $0 is LayerStep }) {
                    throw StreamingError.unsupported(layer: layer.name, "is not streamed over a time axis")
                }
            }
            if let folded {
                // The folded normalization's (or layer scale's) output is this step's output.
                values[folded.consumer.outputIDs[0]] = out
            }
            for step in made { step.denseFallback = dense && (step is LinearStep || step is TemporalConvStep) }
            steps += made
            return [out]
        }
        guard Set(outs.map { timing[$0] }).count <= 1 else {
            throw StreamingError.unsupported(layer: model.name, "has outputs at different delays over time")
        }
        kernels = fuse(steps, outputs: outs)
        slotSizes = sizes
        inputSlots = inputs
        outputSlots = outs
        inputShapes = inShapes
        outputShapes = outs.map { shapeOf[$0]! }
        latency = outs.map { timing[$0].lag }.max() ?? 0
        outputsPerClip = outs.first.map { timing[$0].overTime ? timing[$0].clip : 1 } ?? 1
        self.steps = kernels.map { PlanStep(name: $0.name, kind: $0.kind, denseFallback: $0.denseFallback, denseMACs: $0.denseMACs,
                                        outputCount: sizes[$0.output]) }
        denseMACsPerFrame = kernels.reduce(0) { $0 + $1.denseMACs }
    }

    /// The clip length of a model whose delta layers see an explicit time axis, else nil.
    private static func clipLength(of model: Model) throws -> Int? {
        let deltas = model.layers.compactMap { $0 as? DeltaActivation }
        guard deltas.contains(where: { $0.clipLength == nil }) else { return nil }
        if let d = deltas.first(where: { $0.clipLength != nil }) {
            throw StreamingError.unsupported(layer: d.name, "sees frames as the batch (clip_length \(d.clipLength!)) in a model "
                                             + "whose other delta layers see an explicit time axis")
        }
        let lengths = model.inputs.map { $0.shape.count >= 3 ? $0.shape[1] : nil }
        guard let t = lengths.first ?? nil, t > 0, lengths.allSatisfy({ $0 == t }) else {
            throw StreamingError.unsupported(layer: model.inputs.first?.layer.name ?? model.name,
                                             "needs a known clip length on axis 1 of every input, got "
                                             + model.inputs.map { formatShape($0.shape) }.joined(separator: ", "))
        }
        return t
    }

    /// A new stream with its own state, starting at a key frame.
    public func makeStream() -> DeltaStream { DeltaStream(plan: self) }

    /// One line per step: the layer, what the step does, and dense fallbacks.
    public var description: String {
        var lines = steps.map { s in
            "\(s.name): \(s.kind)" + (s.denseMACs > 0 ? ", \(s.denseMACs) dense MACs" : "")
                + (s.denseFallback ? " [dense fallback: no delta layer before it]" : "")
        }
        lines.append("\(steps.count) steps, \(denseMACsPerFrame) dense MACs per frame, key frame every "
                     + (options.keyFrameEvery == 0 ? "reset only" : "\(options.keyFrameEvery) frames")
                     + (clipLength.map { ", clips of \($0) frames, latency \(latency) frame(s)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}

/// Fuses into each step that can take them (a linear, temporal, merge or
/// per-channel step: ``FusingStep``) the activation and then the delta layer
/// that alone read its output, so that one pass computes, activates,
/// quantizes and compares (the fused values are the same floats).
private func fuse(_ steps: [Step], outputs: [Int]) -> [Step] {
    var steps = steps
    let kept = Set(outputs)
    /// The index of the only step that reads `slot`, if it is no model output.
    func soleReader(_ slot: Int) -> Int? {
        guard !kept.contains(slot) else { return nil }
        let readers = steps.indices.filter { steps[$0].inputs.contains(slot) }
        return readers.count == 1 && steps[readers[0]].inputs.count == 1 ? readers[0] : nil
    }
    var k = 0
    while k < steps.count {
        if let f = steps[k] as? FusingStep {
            if let j = soleReader(f.output), let p = steps[j] as? PointwiseStep, p.channelMap == nil, p.fusedStep == nil,
               f.takesActivation(p.activation) {
                f.fuse(activation: p)
                steps.remove(at: j)
            }
            if f.takesDelta, let j = soleReader(f.output), let d = steps[j] as? DeltaStep {
                f.fuse(delta: d)
                steps.remove(at: j)
            }
        }
        k += 1
    }
    return steps
}

/// Layers over a clip's time axis whose output keeps none: global pooling
/// over time (`GlobalAveragePooling1D` over `[batch, time, features]`),
/// `Flatten`, and recurrent layers that return only their last output.
private func readsWholeClip(_ layer: Layer) -> Bool {
    switch layer {
    case is GlobalAveragePooling3D, is GlobalMaxPooling3D, is GlobalAveragePooling1D, is GlobalMaxPooling1D, is Flatten: return true
    case let r as RNN: return !r.returnSequences
    case let b as Bidirectional: return !b.returnSequences
    default: return false
    }
}

/// Layers that are the identity at inference (dropout, noise, random
/// augmentation, a linear activation) or only reshape a frame (row-major order kept).
private func isAlias(_ layer: Layer) -> Bool {
    layer is InputLayer || layer is Flatten || layer is Reshape || layer is BaseDropout || layer is GaussianNoise
        || layer is GaussianDropout || layer is ActivityRegularization || layer is RandomImageLayer
        || (layer as? ActivationLayer)?.activation.function == .linear
}

/// Where a slot sits on a clip model's time axis.
private struct SlotTiming: Hashable {
    /// A frame of the time axis (false: one value per frame of a per-frame model, or per clip).
    var overTime = false
    /// Input frames the slot's values lag the input.
    var lag = 0
    /// Frames per clip on the slot, and input frames per frame (after pooling over time).
    var clip = 0
    var rate = 1
}

/// The layer a `TimeDistributed` wrapper runs on each frame, or `layer`.
private func unwrapped(_ layer: Layer) -> Layer { (layer as? TimeDistributed)?.layer ?? layer }

/// The rank of the tensors the node's (unwrapped) layer sees, batch axis included.
private func layerRank(_ node: Node) -> Int { node.outputShapes[0].count - (node.layer is TimeDistributed ? 1 : 0) }

/// Linear layers the engine updates with `W·Δ` (`Conv3D` over the time axis of a clip model) that a
/// batch normalization after them folds into (a transposed convolution's kernel is `[k..., out, in]`: not folded).
private func isLinear(_ layer: Layer, clip: Bool = false) -> Bool {
    if let c = layer as? BaseConv { return c is Conv1D || c is Conv2D || (clip && c is Conv3D && c.groups == 1) }
    return layer is DepthwiseConv1D || layer is DepthwiseConv2D || layer is SeparableConv1D || layer is SeparableConv2D || layer is Dense
}

private func hasLinearActivation(_ layer: Layer) -> Bool {
    switch layer {
    case let c as ConvolutionLayer: return c.activation.function == .linear
    case let d as Dense: return d.activation.function == .linear
    default: return false
    }
}

/// A per-channel map after a linear layer that folds into its kernel and
/// bias, `(x − mean)·scale + shift`: an inference batch normalization
/// (`scale = γ / sqrt(var + ε)`), or a `LayerScale` (`x·γ`).
struct FoldedScale {
    let name: String
    let mean: [Float], scale: [Float], shift: [Float]

    /// The map of a batch normalization over the last axis or a layer scale, else nil.
    init?(_ layer: Layer, rank: Int) {
        name = layer.name
        switch layer {
        case let bn as BatchNormalization where bn.axis == -1 || bn.axis == rank - 1:
            let variance = bn.movingVariance.value.scalars, gamma = bn.gamma?.value.scalars
            mean = bn.movingMean.value.scalars
            scale = variance.indices.map { 1 / ((variance[$0] + Float(bn.epsilon)).squareRoot()) * (gamma?[$0] ?? 1) }
            shift = bn.beta?.value.scalars ?? [Float](repeating: 0, count: variance.count)
        case let l as LayerScale:
            scale = l.gamma.value.scalars
            mean = [Float](repeating: 0, count: scale.count)
            shift = mean
        default: return nil
        }
    }
}

/// The kernel and bias of a linear layer with `folded` folded in: `W·scale`
/// per output channel and `(b − mean)·scale + shift`.
private func fold(kernel: Tensor, bias: Tensor?, outputs: Int, _ folded: FoldedScale?) -> (Tensor, [Float]) {
    var b = bias?.scalars ?? [Float](repeating: 0, count: outputs)
    guard let folded else { return (kernel, b) }
    var w = kernel.scalars
    for o in 0..<outputs {
        let s = folded.scale[o]
        b[o] = (b[o] - folded.mean[o]) * s + folded.shift[o]
        var i = o
        while i < w.count { w[i] *= s; i += outputs }
    }
    return (Tensor(shape: kernel.shape, scalars: w), b)
}

/// The steps of one node: one, or two for a separable convolution (its
/// depthwise part into a slot of its own from `intermediate`, then its pointwise part).
private func makeSteps(_ layer: Layer, args: [Int], inShapes: [[Int]], outShape: [Int], output: Int, layerRank: Int,
                       folded: FoldedScale?, intermediate: ([Int]) -> Int) throws -> [Step] {
    if let s = layer as? BaseSeparableConv, isLinear(s) {
        let act = Pointwise(s.activation)
        if act != nil || s.activation.function != .glu {
            let c = inShapes[0].last! * s.depthMultiplier
            let midShape = Array(outShape.dropLast()) + [c]
            let mid = intermediate(midShape)
            let depthwise = DepthwiseStep(name: layer.name + "/depthwise", input: args[0], output: mid, activation: .identity,
                                          kernel: s.depthwiseKernel.value, bias: [Float](repeating: 0, count: c),
                                          inShape: inShapes[0], outShape: midShape, strides: s.strides, dilation: s.dilationRate,
                                          padding: s.padding)
            let (k, b) = fold(kernel: s.pointwiseKernel.value, bias: s.bias?.value, outputs: s.filters, folded)
            let ones = [Int](repeating: 1, count: s.strides.count)
            let pointwise = ConvStep(name: layer.name + (folded.map { "+" + $0.name } ?? ""), input: mid, output: output,
                                     activation: act ?? .identity, kernel: k, bias: b, inShape: midShape, outShape: outShape,
                                     strides: ones, dilation: ones, padding: .valid)
            if act == nil { pointwise.groupActivation = s.activation }
            return [depthwise, pointwise]
        }
    }
    guard let step = try makeStep(layer, args: args, inShapes: inShapes, outShape: outShape, output: output, layerRank: layerRank,
                                  folded: folded) else {
        throw StreamingError.unsupported(layer: layer.name, "cannot be streamed")
    }
    return [step]
}

/// Whether `shape` is `[1, …, 1, C]` against `outShape`'s `[…, C]`: one value per channel, broadcast over positions.
private func isChannelBroadcast(_ shape: [Int], to outShape: [Int]) -> Bool {
    shape.count == outShape.count && shape.last == outShape.last && shape.dropLast().allSatisfy { $0 == 1 }
}

private func makeStep(_ layer: Layer, args: [Int], inShapes: [[Int]], outShape: [Int], output: Int, layerRank: Int,
                      folded: FoldedScale?) throws -> Step? {
    let name = layer.name + (folded.map { "+" + $0.name } ?? "")
    switch layer {
    case let d as DeltaActivation:
        let q = d.stepValues
        return DeltaStep(name: name, step: q, input: args[0], output: output, count: outShape.reduce(1, *))
    case let c as BaseConv where isLinear(c):
        let act = Pointwise(c.activation)
        guard act != nil || c.activation.function != .glu else { break }
        let (k, b) = fold(kernel: c.kernel.value, bias: c.bias?.value, outputs: c.filters, folded)
        let inChannels = inShapes[0].last!
        if c.groups == inChannels && c.groups > 1, let act {
            // One input channel a group (ConvNeXt's 7×7): a depthwise convolution, `[k…, 1, C·m]` read as `[k…, C, m]`.
            let depthwise = Tensor(shape: Array(k.shape.dropLast(2)) + [inChannels, c.filters / inChannels], scalars: k.scalars)
            return DepthwiseStep(name: name, input: args[0], output: output, activation: act, kernel: depthwise, bias: b,
                                 inShape: inShapes[0], outShape: outShape, strides: c.strides, dilation: c.dilationRate, padding: c.padding)
        }
        let step = ConvStep(name: name, input: args[0], output: output, activation: act ?? .identity, kernel: k, bias: b,
                            inShape: inShapes[0], outShape: outShape, strides: c.strides, dilation: c.dilationRate, padding: c.padding,
                            groups: c.groups)
        if act == nil { step.groupActivation = c.activation }
        return step
    case let c as BaseConvTranspose where c is Conv1DTranspose || c is Conv2DTranspose:
        guard let act = Pointwise(c.activation) else { break }
        let b = c.bias?.value.scalars ?? [Float](repeating: 0, count: c.filters)
        return ConvTransposeStep(name: name, input: args[0], output: output, activation: act, kernel: c.kernel.value, bias: b,
                                 inShape: inShapes[0], outShape: outShape, strides: c.strides, dilation: c.dilationRate,
                                 padding: c.padding, outputPadding: c.outputPadding)
    case let c as BaseDepthwiseConv where isLinear(c):
        guard let act = Pointwise(c.activation) else { break }
        let (k, b) = fold(kernel: c.kernel.value, bias: c.bias?.value, outputs: outShape.last!, folded)
        return DepthwiseStep(name: name, input: args[0], output: output, activation: act, kernel: k, bias: b,
                             inShape: inShapes[0], outShape: outShape, strides: c.strides, dilation: c.dilationRate, padding: c.padding)
    case let dense as Dense:
        let act = Pointwise(dense.activation)
        guard act != nil || dense.activation.function != .glu else { break }
        let (k, b) = fold(kernel: dense.kernel.value, bias: dense.bias?.value, outputs: dense.units, folded)
        let inDim = inShapes[0].last!
        let step = DenseStep(name: name, input: args[0], output: output, activation: act ?? .identity, kernel: k.scalars, bias: b,
                             inDim: inDim, units: dense.units, rows: inShapes[0].reduce(1, *) / inDim)
        if act == nil { step.groupActivation = dense.activation }
        return step
    case let bn as BatchNormalization:
        // Not after a linear layer: the map that would fold, `x·scale + (shift − mean·scale)`.
        guard let map = FoldedScale(bn, rank: layerRank) else { break }
        let shift = map.scale.indices.map { map.shift[$0] - map.mean[$0] * map.scale[$0] }
        return PointwiseStep(name: name, kind: "batch normalization", activation: .identity, channelMap: .affine(scale: map.scale, shift: shift),
                             input: args[0], output: output, count: outShape.reduce(1, *))
    case let m as Merge where inShapes.allSatisfy({ $0 == outShape || isChannelBroadcast($0, to: outShape) }):
        let op: MergeStep.Operation? = switch m {
        case is Add: .add
        case is Subtract: .subtract
        case is Multiply: .multiply
        case is Average: .average
        case is Maximum: .maximum
        case is Minimum: .minimum
        default: nil
        }
        if let op {
            return MergeStep(name: name, operation: op, inputs: args, output: output, shape: outShape,
                             widths: inShapes.map { $0.reduce(1, *) })
        }
    case let c as CustomScaleLayer where inShapes.count == 2 && inShapes.allSatisfy({ $0 == outShape }):
        return MergeStep(name: name, operation: .add, inputs: args, output: output, shape: outShape,
                         widths: inShapes.map { $0.reduce(1, *) }, secondScale: Float(c.scale))
    case let c as Concatenate:
        // The axis among the frame's (those before it, batch and time, are not the frame's).
        let axis = (c.axis < 0 ? c.axis + layerRank : c.axis) - (layerRank - inShapes[0].count)
        guard axis >= 0 && axis < inShapes[0].count else { break }
        return ConcatenateStep(name: name, inputs: args, output: output,
                               widths: inShapes.map { $0[axis...].reduce(1, *) })
    case let p as Permute:
        // Axes before the frame's (a clip's time) must stay in place.
        let leading = layerRank - 1 - inShapes[0].count
        guard leading >= 0, Array(p.dims.prefix(leading)) == Array(0..<leading).map({ $0 + 1 }) else { break }
        return PermuteStep(name: name, input: args[0], output: output, inShape: inShapes[0],
                           permutation: p.dims.dropFirst(leading).map { $0 - 1 - leading })
    case let c as CenterCrop where !c.channelsFirst && inShapes[0].count == 3:
        let (height, width) = (inShapes[0][0], inShapes[0][1])
        if height >= c.height && width >= c.width {
            // Keras's crop box: `(size − target) / 2` cut before.
            return MarginStep(name: name, kind: "cropping", input: args[0], output: output, inShape: inShapes[0], outShape: outShape,
                              offsets: [-(height - c.height) / 2, -(width - c.width) / 2])
        }
        // A frame smaller than the target: cropped to its aspect ratio and resized bilinearly (`smart_resize`).
        return ResizeStep(name: name, input: args[0], output: output, inShape: inShapes[0],
                          box: aspectCropBox(height: height, width: width, targetHeight: c.height, targetWidth: c.width),
                          outHeight: c.height, outWidth: c.width, copiesEqualSizes: true)
    case let g as BaseGlobalPooling where g is GlobalAveragePooling1D || g is GlobalAveragePooling2D:
        return GlobalAverageStep(name: name, input: args[0], output: output, shape: inShapes[0])
    case let g as BaseGlobalPooling where g is GlobalMaxPooling1D || g is GlobalMaxPooling2D:
        return GlobalMaxStep(name: name, input: args[0], output: output, shape: inShapes[0])
    case let u as UpSampling2D where u.interpolation == "bilinear" && inShapes[0].count == 3:
        return ResizeStep(name: name, input: args[0], output: output, inShape: inShapes[0],
                          outHeight: outShape[0], outWidth: outShape[1], copiesEqualSizes: false)
    case let r as Resizing where !r.padToAspectRatio && !r.channelsFirst && inShapes[0].count == 3:
        let (height, width) = (inShapes[0][0], inShapes[0][1])
        let box = r.cropToAspectRatio ? aspectCropBox(height: height, width: width, targetHeight: r.height, targetWidth: r.width) : nil
        return ResizeStep(name: name, input: args[0], output: output, inShape: inShapes[0], box: box,
                          outHeight: r.height, outWidth: r.width, nearest: r.interpolation == .nearest, copiesEqualSizes: true)
    case let u as BaseUpSampling where (u is UpSampling1D || (u as? UpSampling2D)?.interpolation == "nearest")
        && inShapes[0].count == u.size.count + 1:
        return UpSamplingStep(name: name, input: args[0], output: output, inShape: inShapes[0], size: u.size)
    case let p as BasePooling where inShapes[0].count <= 3
        && (p is MaxPooling1D || p is MaxPooling2D || p is AveragePooling1D || p is AveragePooling2D):
        return PoolStep(name: name, isMax: p is MaxPooling1D || p is MaxPooling2D, input: args[0], output: output,
                        inShape: inShapes[0], outShape: outShape, poolSize: p.poolSize, strides: p.strides, padding: p.padding)
    case let n as LayerNormalization where n.axes.count == 1 && (n.axes[0] == -1 || n.axes[0] == layerRank - 1):
        return LayerNormStep(name: name, input: args[0], output: output, shape: inShapes[0],
                             gamma: n.gamma?.value.scalars, beta: n.beta?.value.scalars, epsilon: Float(n.epsilon),
                             rmsScaling: n.rmsScaling)
    case let a as ActivationLayer where a.activation.function == .softmax:
        return SoftmaxStep(name: name, input: args[0], output: output, shape: inShapes[0])
    case let a as Softmax where (try? a.axis.resolved(rank: layerRank, layer: a.name)) == [layerRank - 1]:
        return SoftmaxStep(name: name, input: args[0], output: output, shape: inShapes[0])
    case let p as PReLU where p.alpha.shape.count == inShapes[0].count:
        // α over the frame's shape, its shared axes broadcast (by the tensor product with ones, exact).
        guard let alpha = try? Tensor.ones(inShapes[0]) * p.alpha.value else { break }
        return PointwiseStep(name: name, kind: "PReLU", activation: .identity, channelMap: .prelu(alpha: alpha.scalars),
                             input: args[0], output: output, count: outShape.reduce(1, *))
    case let l as LayerScale:
        return PointwiseStep(name: name, kind: "layer scale", activation: .identity, channelMap: .scale(l.gamma.value.scalars),
                             input: args[0], output: output, count: outShape.reduce(1, *))
    case let n as Normalization:
        // Per channel, or one mean and variance for all (`axis=None`): the channel map repeats them either way.
        guard let (m, v) = n.statistics, isChannelBroadcast(m.shape, to: [1] + inShapes[0]) || m.count == 1 else { break }
        let mean = m.scalars
        // Keras's float operations: std = max(√variance, 1e-7); (x − mean) / std, or mean + x·std inverted.
        let std = v.scalars.map { Swift.max($0.squareRoot(), 1e-7) }
        return PointwiseStep(name: name, kind: "normalization", activation: .identity,
                             channelMap: n.invert ? .affine(scale: std, shift: mean) : .standardize(mean: mean, std: std),
                             input: args[0], output: output, count: outShape.reduce(1, *))
    case let m as SpatialMarginLayer where m.margins.count == inShapes[0].count - 1 && (m is BaseZeroPadding || m is BaseCropping):
        return marginStep(m, name: name, input: args[0], output: output, inShape: inShapes[0], outShape: outShape, margins: m.margins)
    default:
        if args.count == 1, let f = Pointwise(layer: layer) {
            return PointwiseStep(name: name, kind: type(of: layer).className, activation: f, input: args[0], output: output, count: outShape.reduce(1, *))
        }
    }
    return LayerStep(name: name, layer: layer, inputs: args, output: output, inputShapes: inShapes)
}

/// The step of a layer that works over the time axis of a clip model
/// (`Conv3D`, 3-D pooling with a window of one frame, global average pooling
/// over time), or nil for a layer that works on each frame alone.
private func makeTemporalStep(_ layer: Layer, args: [Int], inShapes: [[Int]], outShape: [Int], output: Int,
                              folded: FoldedScale?, clipLength: Int) throws -> Step? {
    let name = layer.name + (folded.map { "+" + $0.name } ?? "")
    switch layer {
    case let c as Conv3D:
        guard c.groups == 1, c.strides[0] == 1, c.dilationRate[0] == 1, c.padding != .causal,
              c.kernelSize[0] <= clipLength, let act = Pointwise(c.activation) else {
            throw StreamingError.unsupported(layer: layer.name, "is a Conv3D the engine does not stream (it needs temporal "
                                             + "stride and dilation 1, one group, an element-wise activation)")
        }
        let (k, b) = fold(kernel: c.kernel.value, bias: c.bias?.value, outputs: c.filters, folded)
        return TemporalConvStep(name: name, input: args[0], output: output, activation: act, kernel: k, bias: b,
                                inShape: inShapes[0], outShape: outShape, strides: Array(c.strides.dropFirst()),
                                dilation: Array(c.dilationRate.dropFirst()), padding: c.padding, clipLength: clipLength)
    case let p as BasePooling where (p is MaxPooling3D || p is AveragePooling3D) && p.poolSize[0] > 1:
        guard p.strides[0] == p.poolSize[0], p.padding == .valid || clipLength % p.poolSize[0] == 0, p.poolSize[0] <= clipLength else {
            throw StreamingError.unsupported(layer: layer.name, "pools over time with overlapping or padded windows (pool size "
                                             + "\(p.poolSize[0]), stride \(p.strides[0]), \(clipLength) frames per clip)")
        }
        return TemporalPoolStep(name: name, layer: p, input: args[0], output: output, frameShape: inShapes[0], clipLength: clipLength)
    case let p as BasePooling where p is MaxPooling3D || p is AveragePooling3D:
        guard p.strides[0] == 1 else {
            throw StreamingError.unsupported(layer: layer.name, "pools over time with stride \(p.strides[0]) and a window of one frame")
        }
        return PoolStep(name: name, isMax: p is MaxPooling3D, input: args[0], output: output, inShape: inShapes[0],
                        outShape: outShape, poolSize: Array(p.poolSize.dropFirst()), strides: Array(p.strides.dropFirst()),
                        padding: p.padding)
    case let m as SpatialMarginLayer where (m is ZeroPadding3D || m is Cropping3D) && m.margins.count == inShapes[0].count:
        guard m.margins[0] == Margin(0, 0) else {
            throw StreamingError.unsupported(layer: layer.name, "pads or crops the time axis; the engine streams "
                                             + "3-D padding and cropping over space only")
        }
        return marginStep(m, name: name, input: args[0], output: output, inShape: inShapes[0], outShape: outShape,
                          margins: Array(m.margins.dropFirst()))
    case is GlobalAveragePooling3D, is GlobalAveragePooling1D:
        let c = inShapes[0].last!
        return ClipAverageStep(name: name, input: args[0], output: output, channels: c,
                               positions: inShapes[0].reduce(1, *) / c, clipLength: clipLength)
    default:
        return nil
    }
}

/// The step of zero padding or cropping over a frame's spatial axes by `margins`.
private func marginStep(_ m: SpatialMarginLayer, name: String, input: Int, output: Int, inShape: [Int], outShape: [Int],
                        margins: [Margin]) -> MarginStep {
    let padding = m is BaseZeroPadding
    return MarginStep(name: name, kind: padding ? "zero padding" : "cropping", input: input, output: output,
                      inShape: inShape, outShape: outShape, offsets: margins.map { padding ? $0.before : -$0.before })
}
