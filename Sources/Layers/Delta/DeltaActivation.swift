import Tensor

/// The Delta Activation Layer (Yousefzadeh & Sifalakis, 2021): quantizes its
/// input to a trainable step and, in training, penalises the frame-to-frame
/// change of the result, so that a refined network emits mostly zero deltas.
///
/// Registered as `keras_delta>DeltaActivation`, the name the `keras_delta`
/// Python package gives the same layer in Keras 3 and tf-keras.
///
/// ```swift
/// let delta = try DeltaActivation(thresholdInit: 0.25, sparsityWeight: 1e-4, fanOut: 27, clipLength: 8)
/// let y = try delta(frames, training: true)   // frames: [clips·8, H, W, C]
/// print(delta.losses)                         // λ · fan_out · mean|Δ|
/// ```
public final class DeltaActivation: UnaryLayer {
    /// Which elements share a threshold.
    public enum Granularity: String, CaseIterable, Sendable {
        case channel, layer, neuron
    }

    /// How the threshold's gradient is estimated (see DELTA_SPEC.md § The layer).
    public enum ThresholdGradient: String, CaseIterable, Sendable {
        case lsq, paper, hybrid
    }

    /// What the sparsity loss is the mean |·| of.
    public enum Penalty: String, CaseIterable {
        /// The frame-to-frame changes `Δ` (DELTA_SPEC.md): the method.
        case deltas
        /// The quantized activations `y` themselves: the paper's spatial-L1 baseline.
        case activations
    }

    /// The name the sparsity losses are logged under in `fit`.
    public static let lossName = "delta_loss"
    /// The name of the running delta density in `fit`'s logs.
    public static let densityName = "delta_density"

    public override var supportsMasking: Bool { true }

    /// The initial value of every threshold.
    public var thresholdInit: Double
    public let granularity: Granularity
    /// Whether `threshold` is trained.
    public let trainableThreshold: Bool
    /// λ, the weight of the sparsity loss.
    public var sparsityWeight: Double
    /// MACs one non-zero output element triggers downstream (set by deltaize).
    public var fanOut: Double
    /// Frames per clip when frames are the batch; `nil` with an explicit time axis.
    public var clipLength: Int?
    public var thresholdGradient: ThresholdGradient
    /// What the sparsity loss penalises; not part of the config.
    public var penalty: Penalty = .deltas
    /// The quantization step before `|·|` and the 1e-6 floor.
    public private(set) var threshold: Variable!

    /// Non-zero deltas and deltas of the training calls since the metrics were reset.
    public private(set) var deltaCounts: (nonZero: Int, total: Int) = (0, 0)

    public convenience init(thresholdInit: Double = 0.1, granularity: Granularity = .channel,
                            trainableThreshold: Bool = true, sparsityWeight: Double = 1e-4, fanOut: Double = 1,
                            clipLength: Int? = nil, thresholdGradient: ThresholdGradient = .lsq,
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "threshold_init": .double(thresholdInit), "granularity": .string(granularity.rawValue),
            "trainable_threshold": .bool(trainableThreshold), "sparsity_weight": .double(sparsityWeight),
            "fan_out": .double(fanOut), "clip_length": clipLength.map { .int($0) } ?? .null,
            "threshold_gradient": .string(thresholdGradient.rawValue),
        ]))
    }

    public required init(config: LayerConfig) throws {
        thresholdInit = try config.has("threshold_init") ? config.double("threshold_init") : 0.1
        granularity = Granularity(rawValue: try config.choice("granularity", Granularity.allCases.map { $0.rawValue },
                                                              default: "channel"))!
        trainableThreshold = try config.bool("trainable_threshold", default: true)
        sparsityWeight = try config.has("sparsity_weight") ? config.double("sparsity_weight") : 1e-4
        fanOut = try config.has("fan_out") ? config.double("fan_out") : 1
        clipLength = config.has("clip_length") ? try config.int("clip_length") : nil
        thresholdGradient = ThresholdGradient(rawValue: try config.choice(
            "threshold_gradient", ThresholdGradient.allCases.map { $0.rawValue }, default: "lsq"))!
        try super.init(config: config)
        if let t = clipLength, t < 1 {
            throw LayerError.badConfig(layer: name, "config key 'clip_length' must be a positive number of frames or null, got \(t)")
        }
        guard sparsityWeight.isFinite, sparsityWeight >= 0, fanOut.isFinite, fanOut >= 0, thresholdInit.isFinite else {
            throw LayerError.badConfig(layer: name, "'threshold_init', 'sparsity_weight' and 'fan_out' must be finite, "
                                       + "the last two non-negative")
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["threshold_init"] = .double(thresholdInit)
        c["granularity"] = .string(granularity.rawValue)
        c["trainable_threshold"] = .bool(trainableThreshold)
        c["sparsity_weight"] = .double(sparsityWeight)
        c["fan_out"] = .double(fanOut)
        c["clip_length"] = clipLength.map { .int($0) } ?? .null
        c["threshold_gradient"] = .string(thresholdGradient.rawValue)
        return c
    }

    /// The shape of `threshold` for an input shape.
    public func thresholdShape(_ inputShape: Shape) throws -> [Int] {
        let frameAxes = clipLength == nil ? 2 : 1
        guard inputShape.count > frameAxes else {
            throw LayerError.shapeMismatch(layer: name, clipLength == nil
                ? "with an explicit time axis (clip_length null) needs inputs [batch, time, ...], got \(formatShape(inputShape))"
                : "needs inputs [frames, ...], got \(formatShape(inputShape))")
        }
        switch granularity {
        case .layer: return [1]
        case .channel:
            guard let c = inputShape.last! else { throw LayerError.shapeMismatch(layer: name, "needs a known channel axis, got \(formatShape(inputShape))") }
            return [c]
        case .neuron:
            return try inputShape.dropFirst(frameAxes).map { d in
                guard let d else { throw LayerError.shapeMismatch(layer: name, "granularity 'neuron' needs known frame dimensions, got \(formatShape(inputShape))") }
                return d
            }
        }
    }

    public override func build(inputShape: Shape) throws {
        threshold = try addWeight(name: "threshold", shape: try thresholdShape(inputShape),
                                  initializer: .constant(thresholdInit), trainable: trainableThreshold)
    }

    /// The smallest quantization step: `q = max(|threshold|, stepFloor)`.
    public static let stepFloor: Float = 1e-6

    /// The steps of the current thresholds, `max(|threshold|, stepFloor)`.
    public var stepValues: [Float] { threshold.value.scalars.map { Swift.max(Swift.abs($0), Self.stepFloor) } }

    /// The step `max(|threshold|, 1e-6)`; its gradient reaches `threshold`
    /// through `|·|` and the floor (`tf.maximum` sends ties to `|threshold|`).
    public func step() throws -> Tensor {
        let t = try threshold.read()
        return try Tensor.customGradient("delta_step", inputs: [t], forward: { ts in
            Tensor(shape: ts[0].shape, scalars: ts[0].scalars.map { Swift.max(Swift.abs($0), Self.stepFloor) })
        }, backward: { g in
            [Tensor(shape: t.shape, scalars: zip(g.scalars, t.scalars).map { g, t in
                Swift.abs(t) >= Self.stepFloor ? (t > 0 ? g : (t < 0 ? -g : 0)) : 0
            })]
        })
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let q = try step()
        let expected = try thresholdShape(x.shape.map { Optional($0) })
        guard expected == q.shape else {
            throw LayerError.shapeMismatch(layer: name, "was built for a threshold of shape \(q.shape), got an input of shape \(x.shape)")
        }
        let quantized = try Tensor.quantize(x.detached, step: q.detached)
        let taskEstimator: Tensor.StepGradient = thresholdGradient == .paper ? .paper : .lsq
        let y = try quantizeNode(x, q, value: quantized, estimator: taskEstimator)
        if training, let (clips, frames) = try timeLayout(x.shape), frames >= 2 {
            let lossEstimator: Tensor.StepGradient = thresholdGradient == .lsq ? .lsq : .paper
            let yLoss = lossEstimator == taskEstimator ? y : try quantizeNode(x, q, value: quantized, estimator: lossEstimator)
            // mean |D| in one fused pass (DeltaKernels), as reshape, slices, subtraction, |·| and mean would give.
            let difference = try DeltaKernels.meanAbsoluteFrameDifference(yLoss, clips: clips, frames: frames)
            deltaCounts.nonZero += difference.nonZero
            deltaCounts.total += difference.count
            let penalised = penalty == .deltas ? difference.mean : try yLoss.abs().mean()
            addLoss(try penalised * Float(sparsityWeight * fanOut), name: Self.lossName)
        }
        return y
    }

    /// Whether one step per channel describes the quantization (granularity
    /// `channel` or `layer`), so that it can end a convolution's fused epilogue at inference.
    public var quantizesPerChannel: Bool { built && granularity != .neuron }

    /// The step of each of `channels` channels, `max(|threshold|, 1e-6)`.
    public func channelSteps(channels: Int) throws -> [Float] {
        let steps = stepValues
        switch (granularity, steps.count) {
        case (.layer, 1): return [Float](repeating: steps[0], count: channels)
        case (.channel, channels): return steps
        default: throw LayerError.shapeMismatch(layer: name, "has \(steps.count) thresholds for \(channels) channels")
        }
    }

    /// The running delta density of the training calls, for `fit`'s logs.
    public override func trainingMetrics() -> [String: (sum: Double, count: Double)] {
        deltaCounts.total > 0 ? [Self.densityName: (Double(deltaCounts.nonZero), Double(deltaCounts.total))] : [:]
    }

    public override func resetTrainingMetrics() { deltaCounts = (0, 0) }

    /// Clips and frames per clip of an input, or nil when it holds no time axis
    /// to difference. Throws when frames-as-batch does not divide the batch.
    public func timeLayout(_ shape: [Int]) throws -> (clips: Int, frames: Int)? {
        guard let first = shape.first else { return nil }
        guard let t = clipLength else { return shape.count >= 3 ? (first, shape[1]) : nil }
        guard first % t == 0 else {
            throw LayerError.shapeMismatch(layer: name, "batch of \(first) frames is not a multiple of clip_length \(t)")
        }
        return (first / t, t)
    }

    /// `value` (the quantized `x`) as a node with the straight-through input
    /// gradient and the chosen step gradient.
    private func quantizeNode(_ x: Tensor, _ q: Tensor, value: Tensor, estimator: Tensor.StepGradient) throws -> Tensor {
        let (xValue, qValue) = (x.detached, q.detached)
        return try Tensor.customGradient("delta_quantize_\(estimator)", inputs: [x, q], forward: { _ in value }, backward: { g in
            [g, try DeltaKernels.stepGradient(xValue, step: qValue, outputGradient: g, estimator: estimator)]
        })
    }
}
