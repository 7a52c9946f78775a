import Foundation
import Layers
import Tensor
import Training
import Video
import VideoTraining

/// One stretch of refinement with its own clips and sparsity weight (the
/// paper trains on long clips, then on 2-frame clips with a smaller λ).
public struct RefinePhase: Equatable {
    public var epochs: Int
    /// Frames per clip.
    public var clipLength: Int
    /// Clips per batch.
    public var clipsPerBatch: Int
    /// λ of every delta layer; nil keeps each layer's own.
    public var sparsityWeight: Double?

    public init(epochs: Int, clipLength: Int, clipsPerBatch: Int, sparsityWeight: Double? = nil) {
        (self.epochs, self.clipLength, self.clipsPerBatch, self.sparsityWeight) = (epochs, clipLength, clipsPerBatch, sparsityWeight)
    }

    /// The paper's schedule (DELTA_SPEC.md): 8-frame clips, batch 4, λ 1e-4;
    /// then 2-frame clips, batch 16, λ 1e-6.
    public static func paper(epochs: (Int, Int) = (2, 1)) -> [RefinePhase] {
        [RefinePhase(epochs: epochs.0, clipLength: 8, clipsPerBatch: 4, sparsityWeight: 1e-4),
         RefinePhase(epochs: epochs.1, clipLength: 2, clipsPerBatch: 16, sparsityWeight: 1e-6)]
    }
}

/// How the student is taught without labels, from the dense teacher.
public enum Distance: Equatable {
    /// KL divergence of the softmax outputs at temperature τ, scaled by τ².
    case klDivergence(temperature: Double)
    /// Mean squared difference of the outputs (logits).
    case meanSquaredError
}

/// The options of ``refine(_:data:options:)``, as `keras-delta refine` takes them.
public struct RefineOptions {
    public var phases: [RefinePhase] = [RefinePhase(epochs: 3, clipLength: 8, clipsPerBatch: 4)]
    /// The optimizer; the paper's SGD(1e-3, momentum 0.9) when nil.
    public var optimizer: Optimizer?
    /// The dense model as teacher; nil trains on the labels the data carries.
    public var teacher: Model?
    public var distance: Distance = .klDivergence(temperature: 2)
    /// With a teacher and labels: the weight of the task loss, the teacher's being 1 − it.
    public var labelWeight: Double = 0
    /// λ rises linearly from 0 over this many steps.
    public var warmupSteps = 0
    /// The learning rate falls from the optimizer's along a half cosine to 0
    /// over all steps of all phases, as Keras's `CosineDecay`.
    public var cosineDecay = false
    /// BatchNormalization layers keep their inference statistics and do not train.
    public var freezeBatchNorm = false
    /// What the sparsity losses penalise: the deltas (the method) or, as the paper's
    /// spatial baseline, the activations (L1). The layers keep this after refining.
    public var penalty: DeltaActivation.Penalty = .deltas
    /// Sets every delta layer's threshold-gradient mode; nil keeps theirs.
    public var thresholdGradient: DeltaActivation.ThresholdGradient?
    /// Calibrates the thresholds first: α × each channel's mean |activation| (or |change|) on this many clips.
    public var calibration: (scale: Double, clips: Int, statistic: CalibrationStatistic)?
    /// Clips are shuffled with this seed (and the epoch).
    public var seed: UInt64 = 0
    /// Use at most this many clips.
    public var maxClips: Int?
    /// A checkpoint is written here after every epoch; a later run with the same folder resumes.
    public var checkpointDirectory: String?
    public var verbose = 1
    public var callbacks: [Callback] = []

    public init() {}
}

/// The logs of each epoch of a refinement, over all phases.
public struct RefineResult {
    /// Each epoch's logs (`loss`, `delta_loss`, `delta_density`, `accuracy` or `agreement`, …).
    public var history: [[String: Double]] = []
    /// The last checkpoint written, if checkpoints were on.
    public var checkpoint: String?
    /// Why training stopped early (a NaN or infinite loss), when it did.
    public var stopReason: String?
}

/// Refines a delta model for temporal sparsity (DELTA_SPEC.md § Refinement):
/// the task loss (or the distance to a dense teacher's outputs) plus the delta
/// layers' sparsity losses, on whole clips, phase by phase.
///
/// ```swift
/// var options = RefineOptions()
/// options.teacher = dense          // label-free: learn from the dense model
/// options.warmupSteps = 50
/// let result = try refine(deltaModel, data: "synthetic:mode=appearance,clips=256", options: options)
/// ```
public func refine(_ model: Model, data: String, split: Int = 1, options: RefineOptions) throws -> RefineResult {
    let deltas = model.executionOrder.compactMap { $0.layer as? DeltaActivation }
    guard !deltas.isEmpty else { throw DeltaError.badArgument("model", "'\(model.name)' holds no DeltaActivation layer; deltaize it first") }
    guard !options.phases.isEmpty, options.phases.allSatisfy({ $0.epochs >= 0 && $0.clipLength >= 1 && $0.clipsPerBatch >= 1 }) else {
        throw DeltaError.badArgument("phases", "need at least one phase, each with epochs ≥ 0, clipLength ≥ 1 and clipsPerBatch ≥ 1")
    }
    guard options.labelWeight >= 0, options.labelWeight <= 1 else {
        throw DeltaError.badArgument("labelWeight", "must be within 0…1, got \(options.labelWeight)")
    }
    let spec = try DataSourceSpec.parse(data, split: split, subset: .train)
    let teacher = options.teacher
    guard teacher != nil || spec.hasLabels else {
        throw DeltaError.badData("\(data): the data carries no labels; give a teacher (the dense model) to refine without labels")
    }
    let useLabels = spec.hasLabels && (teacher == nil || options.labelWeight > 0)
    let explicitTime = hasExplicitTimeAxis(model)

    if let mode = options.thresholdGradient { for d in deltas { d.thresholdGradient = mode } }
    for d in deltas { d.penalty = options.penalty }
    if options.freezeBatchNorm { _ = model.freezeBatchNormalization() }
    if let (scale, clips, statistic) = options.calibration {
        try calibrateThresholds(model, on: try ClipSet.load(data, for: model, limit: clips, split: split, subset: .train), scale: scale,
                                statistic: statistic)
    }
    let classOutput = taskLoss(model)
    try model.compile(optimizer: options.optimizer ?? SGD(learningRate: 1e-3, momentum: 0.9), loss: classOutput,
                      metrics: useLabels ? ["accuracy"] : [])

    var result = RefineResult()
    let targets = deltas.map { $0.sparsityWeight }, clipLengths = deltas.map { $0.clipLength }
    // The model keeps the clip length it came with (a phase of 2-frame clips is a training device).
    defer { for (d, t) in zip(deltas, clipLengths) { d.clipLength = t } }
    var firstStep = 0
    func source(_ index: Int) throws -> ClipDataSource {
        let phase = options.phases[index]
        var sourceOptions = ClipSourceOptions(batchSize: phase.clipsPerBatch, labels: useLabels ? nil : ClipLabels.none,
                                              shuffle: true, seed: options.seed &+ UInt64(index), maxClips: options.maxClips)
        try sourceOptions.match(model)
        if !explicitTime { sourceOptions.clipLength = phase.clipLength }
        return try spec.makeSource(sourceOptions)
    }
    // A source is made when its phase starts (a data-synth folder is read into memory), so counting
    // the steps for cosine decay makes each once more and lets it go.
    let totalSteps = options.cosineDecay ? try options.phases.indices.reduce(0) { $0 + options.phases[$1].epochs * (try source($1).batchCount) } : 0
    let initialRate = model.optimizer?.currentLearningRate ?? 0
    for (index, phase) in options.phases.enumerated() {
        for (d, target) in zip(deltas, targets) {
            d.sparsityWeight = phase.sparsityWeight ?? target
            if !explicitTime { d.clipLength = phase.clipLength }
        }
        let source = try source(index)
        var callbacks = options.callbacks
        callbacks.append(SparsityWarmup(deltas, targets: deltas.map { $0.sparsityWeight }, steps: options.warmupSteps,
                                        firstStep: firstStep, stepsPerEpoch: source.batchCount))
        if options.cosineDecay {
            callbacks.append(CosineLearningRate(initial: initialRate, totalSteps: totalSteps, firstStep: firstStep,
                                                stepsPerEpoch: source.batchCount))
        }
        var backup: BackupAndRestore?
        if let dir = options.checkpointDirectory {
            backup = BackupAndRestore(backupDir: URL(fileURLWithPath: dir).appendingPathComponent("phase\(index + 1)").path,
                                      deleteCheckpoint: false)
            callbacks.append(backup!)
        }
        let loss = lossFunction(teacher: teacher, distance: options.distance, labelWeight: useLabels ? options.labelWeight : 0,
                                useLabels: useLabels, taskLoss: classOutput)
        let history = try model.fit(source, epochs: phase.epochs, callbacks: callbacks, verbose: options.verbose, loss: loss)
        result.history += history.epoch.indices.map { i in history.history.compactMapValues { i < $0.count ? $0[i] : nil } }
        if let backup, FileManager.default.fileExists(atPath: backup.checkpointURL.path) { result.checkpoint = backup.checkpointURL.path }
        firstStep += phase.epochs * source.batchCount
        if let reason = history.stopReason {
            result.stopReason = reason
            break
        }
    }
    for (d, target) in zip(deltas, targets) where options.phases.last?.sparsityWeight == nil { d.sparsityWeight = target }
    return result
}

/// The compiled task loss: sparse crossentropy, from the logits when the
/// output is not a softmax (Keras uses a softmax's own logits either way).
func taskLoss(_ model: Model) -> Loss {
    let last = model.outputs[0].layer
    let softmax = last is Softmax || last.getConfig()["activation"]?.stringValue == "softmax"
    return SparseCategoricalCrossentropy(fromLogits: !softmax)
}

/// The loss of one step: the task loss on the labels, the distance to the
/// teacher's outputs (computed without gradient, in inference mode), or a mix.
func lossFunction(teacher: Model?, distance: Distance, labelWeight: Double, useLabels: Bool,
                          taskLoss: Loss) -> LossFunction? {
    guard let teacher else { return nil }
    return { context in
        let student = context.outputs[0]
        let target = try withoutGradient { try teacher.predictOnBatch(context.batch.x)[0] }
        let agreement = try Distillation.agreement(student: student, teacher: target)
        context.logMean("agreement", sum: Double(agreement.matches), count: Double(agreement.count))
        let softmax = student.kerasLogits != nil
        let taught: Tensor
        switch distance {
        case .klDivergence(let t):
            taught = try Distillation.klDivergence(student: student, teacher: target, temperature: t, fromLogits: !softmax)
        case .meanSquaredError:
            taught = try Distillation.meanSquaredError(student: student.kerasLogits ?? student, teacher: target.kerasLogits ?? target)
        }
        guard useLabels, labelWeight > 0, let y = context.batch.y.first else { return taught }
        let task = try taskLoss(y, student)
        return try task * Float(labelWeight) + taught * Float(1 - labelWeight)
    }
}

/// Sets the learning rate before each step: `initial · ½(1 + cos(π · step / total))`,
/// counting steps across phases (Keras's `CosineDecay` with `alpha` 0).
final class CosineLearningRate: Callback {
    private let initial: Float
    private let totalSteps: Int, firstStep: Int, stepsPerEpoch: Int
    private var epoch = 0

    init(initial: Float, totalSteps: Int, firstStep: Int, stepsPerEpoch: Int) {
        (self.initial, self.totalSteps, self.firstStep, self.stepsPerEpoch) = (initial, totalSteps, firstStep, stepsPerEpoch)
    }

    override func onEpochBegin(_ epoch: Int, logs: Logs) throws { self.epoch = epoch }

    override func onTrainBatchBegin(_ batch: Int, logs: Logs) throws {
        let step = Swift.min(firstStep + epoch * stepsPerEpoch + batch, totalSteps)
        let rate = 0.5 * (1 + cos(Double.pi * Double(step) / Double(Swift.max(totalSteps, 1))))
        try model?.optimizer?.setLearningRate(Float(Double(initial) * rate))
    }
}

/// Raises every delta layer's λ linearly from 0 to its target over the first
/// `steps` training steps, counted over all phases (so a resumed run sets the same λ).
final class SparsityWarmup: Callback {
    private let layers: [DeltaActivation]
    private let targets: [Double]
    private let steps: Int, firstStep: Int, stepsPerEpoch: Int
    private var epoch = 0

    init(_ layers: [DeltaActivation], targets: [Double], steps: Int, firstStep: Int, stepsPerEpoch: Int) {
        (self.layers, self.targets, self.steps, self.firstStep, self.stepsPerEpoch) = (layers, targets, steps, firstStep, stepsPerEpoch)
    }

    override func onEpochBegin(_ epoch: Int, logs: Logs) throws { self.epoch = epoch }

    override func onTrainBatchBegin(_ batch: Int, logs: Logs) throws {
        let step = firstStep + epoch * stepsPerEpoch + batch
        let factor = steps > 0 ? Swift.min(1, Double(step) / Double(steps)) : 1
        for (l, t) in zip(layers, targets) { l.sparsityWeight = t * factor }
    }

    override func onTrainEnd(logs: Logs) throws {
        for (l, t) in zip(layers, targets) { l.sparsityWeight = t }
    }
}
