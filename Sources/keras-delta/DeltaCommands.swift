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
    @Option(help: "Clips (DATA, see CLI.md) to calibrate the thresholds on.") var calibrate: String?
    @Option(help: "With --calibrate: each channel's step is this times its mean |activation|.") var thresholdScale: Double = 0.1
    @Option(help: "With --calibrate: how many clips to use.") var calibrationClips: Int = 8

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
        for entry in layerThresholds {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let t = Double(parts[1]) else {
                throw CommandFailure(message: "--layer-threshold must be NAME=T, got '\(entry)'", code: 2)
            }
            options.thresholdOverrides[parts[0]] = t
        }
        let result = try deltaize(loaded.model, options: options)
        if let calibrate {
            let data = try ClipSet.load(calibrate, for: result.model, limit: calibrationClips)
            try calibrateThresholds(result.model, on: data, scale: thresholdScale)
            print("calibrated \(result.placements.count) delta layers on \(data.clips.count) clips (scale \(thresholdScale))")
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
