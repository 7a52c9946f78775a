import ArgumentParser
import Foundation
import KerasDelta

struct DeltaizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deltaize", abstract: "Insert DeltaActivation layers (DELTA_SPEC.md) and print where they went.")

    @Argument(help: "A Keras model: legacy .h5 or .keras.") var input: String
    @Argument(help: "The delta model to write (.h5, .keras or .weights.h5).") var output: String
    @Option(help: "Initial threshold of every delta layer.") var threshold: Double = 0.1
    @Option(name: .customLong("layer-threshold"), help: "A per-layer threshold, NAME=T (the delta layer or the layer it follows); repeatable.")
    var layerThresholds: [String] = []
    @Option(help: "Sparsity weight λ.") var sparsityWeight: Double = 1e-4
    @Option(help: "Frames per clip for per-frame models (frames as batch).") var clipLength: Int = 8
    @Flag(help: "No delta layer on the model input.") var noInputDelta = false
    @Option(help: "Threshold gradient: lsq, paper or hybrid.") var thresholdGradient: String = "lsq"
    @Option(help: "Threshold granularity: channel, layer or neuron.") var granularity: String = "channel"
    @Option(help: "non-linearities (after each one that reaches a MAC layer) or mac-inputs (also residual sums, gates, normalizations: every input of a MAC layer; a SeparableConv2D or non-causal SeparableConv1D is split into its depthwise and one-tap halves).")
    var placement: String = "non-linearities"
    @Option(help: "Clips (DATA, see CLI.md) to calibrate the thresholds on.") var calibrate: String?
    @Option(help: "With --calibrate: each channel's step is this times its mean |activation|.") var thresholdScale: Double = 0.1
    @Option(help: "With --calibrate: how many clips to use.") var calibrationClips: Int = 8
    @Option(help: "With --calibrate: what the step is a multiple of: activations (mean |activation|) or changes (mean |frame-to-frame change|).")
    var calibrationStatistic: String = "activations"

    func run() throws {
        let loaded = try KerasModelFile.load(input)
        var options = DeltaizeOptions()
        options.thresholdInit = threshold
        options.sparsityWeight = sparsityWeight
        options.clipLength = clipLength
        options.inputDelta = !noInputDelta
        guard let gradient = DeltaActivation.ThresholdGradient(rawValue: thresholdGradient) else {
            throw CommandFailure(message: "--threshold-gradient must be lsq, paper or hybrid, got '\(thresholdGradient)'", code: 2)
        }
        guard let grain = DeltaActivation.Granularity(rawValue: granularity) else {
            throw CommandFailure(message: "--granularity must be channel, layer or neuron, got '\(granularity)'", code: 2)
        }
        options.thresholdGradient = gradient
        options.granularity = grain
        options.placement = try deltaPlacement(placement)
        for entry in layerThresholds {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let t = Double(parts[1]) else {
                throw CommandFailure(message: "--layer-threshold must be NAME=T, got '\(entry)'", code: 2)
            }
            options.thresholdOverrides[parts[0]] = t
        }
        let result = try deltaize(loaded.model, options: options)
        if !result.inlinedModels.isEmpty {
            print("inlined the nested model\(result.inlinedModels.count > 1 ? "s" : "") \(result.inlinedModels.map { "'\($0)'" }.joined(separator: ", ")) into one graph")
        }
        if let calibrate {
            let data = try ClipSet.load(calibrate, for: result.model, limit: calibrationClips)
            try calibrateThresholds(result.model, on: data, scale: thresholdScale, statistic: try calibration(calibrationStatistic))
            print("calibrated \(result.placements.count) delta layers on \(data.clips.count) clips (\(thresholdScale) × mean |\(calibrationStatistic)|)")
        }
        print(result.table, terminator: "")
        try KerasModelFile.save(result.model, to: output, trainingConfig: loaded.trainingConfig)
        print("wrote \(output)")
    }
}

struct SparsityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparsity", abstract: "Per-layer and total activation and delta densities and MACs of a delta model.")

    @Argument(help: "A Keras model holding DeltaActivation layers.") var model: String
    @Option(help: "Clips: a video, a folder, a UCF101 root, a data-synth folder or synthetic[:key=value,…].") var data: String
    @Option(help: "A model to compare with (a dense one is measured where the delta layers sit).") var baseline: String?
    @Option(help: "How many clips to use.") var clips: Int = 16
    @Option(help: "Write the figures as JSON.") var json: String?
    @Option(help: "Write a self-contained HTML report.") var html: String?

    func validate() throws {
        guard clips > 0 else { throw ValidationError("--clips must be positive") }
    }

    func run() throws {
        let delta = try KerasModelFile.load(model).model
        guard delta.executionOrder.contains(where: { $0.layer is DeltaActivation }) else {
            throw CommandFailure(message: "\(model): the model holds no DeltaActivation layer; run keras-delta deltaize first", code: 2)
        }
        let set = try ClipSet.load(data, for: delta, limit: clips)
        let report = try measureSparsity(delta, on: set)
        var comparison = SparsityComparison(model: report)
        if let baseline {
            let dense = try KerasModelFile.load(baseline).model
            comparison.baseline = try measureSparsity(try baselineModel(dense, like: delta), on: set)
            if set.labels == nil { comparison.agreement = try report.agreement(with: comparison.baseline!) }
        }
        print(comparison.table, terminator: "")
        if let json { try writeAtomically(comparison.json.serialized() + "\n", to: json) }
        if let html { try writeAtomically(comparison.html(title: "Sparsity of \(URL(fileURLWithPath: model).lastPathComponent)"), to: html) }
    }
}

/// Writes text to a temporary file beside `path`, then renames it.
func writeAtomically(_ text: String, to path: String) throws {
    try AtomicWrite.write(to: path) { tmp in try Data(text.utf8).write(to: URL(fileURLWithPath: tmp)) }
}

struct RefineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine", abstract: "Refine a delta model for temporal sparsity on video, with labels or from a dense teacher.")

    @Argument(help: "A Keras model holding DeltaActivation layers (keras-delta deltaize writes one).") var model: String
    @Option(help: "Training clips: a video, a folder, a UCF101 root, a data-synth folder or synthetic[:key=value,…].") var data: String
    @Option(name: .shortAndLong, help: "Where to write the refined model (.h5, .keras or .weights.h5).") var output: String
    @Option(help: "The dense model to learn from without labels.") var teacher: String?
    @Flag(help: "Train on the labels DATA carries (the default without --teacher).") var labels = false
    @Option(help: "With --teacher and --labels: the weight of the task loss (the teacher's is 1 − it).") var labelWeight: Double = 0.5
    @Option(help: "Epochs (of the single phase; see --preset).") var epochs: Int = 3
    @Option(help: "Frames per clip.") var clipLength: Int = 8
    @Option(help: "Clips per batch.") var batchSize: Int = 4
    @Option(help: "λ of every delta layer (default: each layer's own).") var sparsityWeight: Double?
    @Option(help: "paper: 8-frame clips (batch 4, λ 1e-4) for --epochs, then 2-frame clips (batch 16, λ 1e-6) for --epochs2.") var preset: String?
    @Option(help: "With --preset paper or --sparsity-weight2: epochs of the second phase.") var epochs2: Int = 1
    @Option(help: "A second phase of --epochs2 epochs on the same clips with this λ (a lower one lets accuracy recover).")
    var sparsityWeight2: Double?
    @Option(help: "λ rises linearly from 0 over this many steps.") var warmup: Int = 0
    @Flag(help: "BatchNormalization keeps its inference statistics and does not train.") var freezeBatchnorm = false
    @Option(help: "Threshold gradient: lsq, paper or hybrid (default: each layer's own).") var thresholdGradient: String?
    @Option(help: "Calibrate the thresholds first: each channel's step is this times its mean |activation| (or |change|).") var calibrateScale: Double?
    @Option(help: "What the sparsity loss penalises: deltas (the method) or activations (plain L1, the paper's spatial baseline).")
    var penalty: String = "deltas"
    @Option(help: "With --calibrate-scale: activations (mean |activation|) or changes (mean |frame-to-frame change|).")
    var calibrationStatistic: String = "activations"
    @Option(help: "Optimizer: sgd (lr 1e-3, momentum 0.9, the paper's) or adam.") var optimizer: String = "sgd"
    @Flag(help: "The learning rate falls along a half cosine to 0 over the whole run (Keras's CosineDecay).") var cosineDecay = false
    @Option(help: "Learning rate.") var learningRate: Double?
    @Option(help: "Distillation distance with --teacher: kl or mse.") var distance: String = "kl"
    @Option(help: "Temperature of the KL distillation.") var temperature: Double = 2
    @Option(help: "Use at most this many training clips.") var maxClips: Int?
    @Option(help: "UCF101 split.") var split: Int = 1
    @Option(help: "Shuffle seed.") var seed: UInt64 = 0
    @Option(help: "Checkpoint folder (default: OUTPUT.checkpoints).") var checkpointDir: String?
    @Flag(help: "Continue from the checkpoints of an interrupted run with the same settings.") var resume = false
    @Option(help: "Held-out clips for the before/after summary (default: synthetic data with the next seed, else DATA).") var validationData: String?
    @Option(help: "How many held-out clips the summary measures.") var summaryClips: Int = 16
    @Option(help: "Write the history and checkpoint as JSON.") var json: String?

    func validate() throws {
        guard epochs >= 0, epochs2 >= 0, clipLength >= 1, batchSize >= 1, summaryClips >= 1 else {
            throw ValidationError("--epochs, --epochs2 must be ≥ 0; --clip-length, --batch-size, --summary-clips ≥ 1")
        }
        guard labelWeight >= 0, labelWeight <= 1 else { throw ValidationError("--label-weight must be within 0…1") }
        guard preset == nil || sparsityWeight2 == nil else { throw ValidationError("--sparsity-weight2 and --preset set the phases two ways; give one") }
    }

    func run() throws {
        let student = try KerasModelFile.load(model)
        let dense = try teacher.map { try KerasModelFile.load($0).model }
        var options = RefineOptions()
        switch preset {
        case nil:
            options.phases = [RefinePhase(epochs: epochs, clipLength: clipLength, clipsPerBatch: batchSize, sparsityWeight: sparsityWeight)]
            if let sparsityWeight2 {
                options.phases.append(RefinePhase(epochs: epochs2, clipLength: clipLength, clipsPerBatch: batchSize, sparsityWeight: sparsityWeight2))
            }
        case "paper"?:
            options.phases = RefinePhase.paper(epochs: (epochs, epochs2))
        default:
            throw CommandFailure(message: "--preset must be paper, got '\(preset!)'", code: 2)
        }
        options.teacher = dense
        options.labelWeight = dense != nil && labels ? labelWeight : 0
        switch distance {
        case "kl": options.distance = .klDivergence(temperature: temperature)
        case "mse": options.distance = .meanSquaredError
        default: throw CommandFailure(message: "--distance must be kl or mse, got '\(distance)'", code: 2)
        }
        options.warmupSteps = warmup
        options.cosineDecay = cosineDecay
        options.freezeBatchNorm = freezeBatchnorm
        guard let penalty = DeltaActivation.Penalty(rawValue: penalty) else {
            throw CommandFailure(message: "--penalty must be deltas or activations, got '\(self.penalty)'", code: 2)
        }
        options.penalty = penalty
        if let thresholdGradient {
            guard let mode = DeltaActivation.ThresholdGradient(rawValue: thresholdGradient) else {
                throw CommandFailure(message: "--threshold-gradient must be lsq, paper or hybrid, got '\(thresholdGradient)'", code: 2)
            }
            options.thresholdGradient = mode
        }
        if let calibrateScale { options.calibration = (calibrateScale, 8, try calibration(calibrationStatistic)) }
        switch optimizer {
        case "sgd": options.optimizer = try SGD(learningRate: .constant(Float(learningRate ?? 1e-3)), momentum: 0.9)
        case "adam": options.optimizer = try Adam(learningRate: .constant(Float(learningRate ?? 5e-4)))
        default: throw CommandFailure(message: "--optimizer must be sgd or adam, got '\(optimizer)'", code: 2)
        }
        options.maxClips = maxClips
        options.seed = seed
        let checkpoints = checkpointDir ?? output + ".checkpoints"
        if !resume, FileManager.default.fileExists(atPath: checkpoints) {
            try FileManager.default.removeItem(atPath: checkpoints)
        }
        options.checkpointDirectory = checkpoints

        // Held-out clips for the summary: measured before and after.
        let heldOut = validationData ?? heldOutSpec(data)
        let clips = try ClipSet.load(heldOut, for: student.model, limit: summaryClips)
        let before = try measureSparsity(student.model, on: clips)
        let teacherReport = try dense.map { try measureSparsity(try baselineModel($0, like: student.model), on: clips) }

        let result = try refine(student.model, data: data, split: split, options: options)
        let after = try measureSparsity(student.model, on: clips)
        try KerasModelFile.save(student.model, to: output, trainingConfig: student.trainingConfig)

        print("")
        print("refined \(model) → \(output)" + (result.stopReason.map { " (stopped early: \($0))" } ?? ""))
        print(String(format: "delta density   %.1f%% → %.1f%%   (delta MACs per frame %@ → %@)", 100 * before.total.deltaDensity,
                     100 * after.total.deltaDensity, formatMACs(before.total.deltaMACs), formatMACs(after.total.deltaMACs)))
        if let b = before.accuracy, let a = after.accuracy {
            print(String(format: "accuracy        %.1f%% → %.1f%%   on %d held-out clips", 100 * b, 100 * a, clips.clips.count))
        }
        if let teacherReport {
            print(String(format: "teacher agreement %.1f%% → %.1f%%", 100 * (try before.agreement(with: teacherReport)),
                         100 * (try after.agreement(with: teacherReport))))
            print(String(format: "density reduction vs the dense teacher: %.2fx", teacherReport.total.spatialMACs / max(after.total.deltaMACs, 1e-12)))
        }
        print("wrote \(output); checkpoints in \(checkpoints)")
        if let json {
            let history: [JSONValue] = result.history.map { logs in
                var entry = JSONObject()
                for key in logs.keys.sorted() { entry[key] = .double(logs[key]!) }
                return .object(entry)
            }
            var object: JSONObject = ["history": .array(history),
                                      "checkpoint": result.checkpoint.map { .string($0) } ?? .null,
                                      "delta_density": ["before": .double(before.total.deltaDensity), "after": .double(after.total.deltaDensity)],
                                      "delta_macs": ["before": .double(before.total.deltaMACs), "after": .double(after.total.deltaMACs)],
                                      "held_out_clips": .int(clips.clips.count)]
            if let b = before.accuracy, let a = after.accuracy { object["accuracy"] = ["before": .double(b), "after": .double(a)] }
            if let teacherReport {
                object["agreement"] = ["before": .double(try before.agreement(with: teacherReport)),
                                       "after": .double(try after.agreement(with: teacherReport))]
                object["density_reduction"] = .double(teacherReport.total.spatialMACs / max(after.total.deltaMACs, 1e-12))
            }
            try writeAtomically(JSONValue.object(object).serialized() + "\n", to: json)
        }
    }

    /// Fresh synthetic clips (the next seed) for a synthetic DATA; DATA itself otherwise.
    private func heldOutSpec(_ data: String) -> String {
        guard case let .synthetic(mode, classes, clips, frames, size, seed)? = try? DataSourceSpec.parse(data) else { return data }
        return DataSourceSpec.synthetic(mode: mode, classes: classes, clips: clips, frames: frames, size: size, seed: seed &+ 1).argument
    }
}

/// The `--calibration-statistic` of `deltaize` and `refine`.
func calibration(_ name: String) throws -> CalibrationStatistic {
    guard let statistic = CalibrationStatistic(rawValue: name) else {
        throw CommandFailure(message: "--calibration-statistic must be activations or changes, got '\(name)'", code: 2)
    }
    return statistic
}

/// The ``DeltaizeOptions/Placement`` a `--placement` value names.
func deltaPlacement(_ name: String) throws -> DeltaizeOptions.Placement {
    guard let placement = DeltaizeOptions.Placement(rawValue: name) else {
        let names = DeltaizeOptions.Placement.allCases.map(\.rawValue).joined(separator: " or ")
        throw CommandFailure(message: "--placement must be \(names), got '\(name)'", code: 2)
    }
    return placement
}
