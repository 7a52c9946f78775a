import ArgumentParser
import Foundation
import KerasDelta

/// `keras-delta demo`: the whole user story on the bundled Keras-trained models
/// and the built-in synthetic video (CLI.md): load, measure, deltaize with
/// calibration, refine, measure again, report, export and reload, stream.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "The end-to-end job on the bundled Keras models and the built-in synthetic video set.")

    @Flag(help: "Fewer clips and epochs (under 2 minutes).") var quick = false
    @Option(help: "The per-frame Keras model (appearance mode, frames as batch).") var frameModel = "models/frame_mobilenet.h5"
    @Option(help: "The video Keras model with a time axis (motion mode); 'none' skips it.") var clipModel = "models/clip_temporal.h5"
    @Option(name: .shortAndLong, help: "Output folder.") var output = "out/demo"
    @Option(help: "The Python with Keras and keras_delta that re-loads the exports; 'none' skips it.") var python = ".venv/bin/python"
    @Option(help: "Also write every figure as JSON to this file.") var json: String?

    func run() throws {
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var runs: [DemoRun.Result] = []
        // Both refine on 640 clips, at the λ that kept every seed within a point of the dense model
        // (REPRODUCTION.md § More training clips); with 160, neither model did on every seed.
        runs.append(try DemoRun(modelPath: frameModel, mode: "appearance", name: "frame", quick: quick,
                                defaultSparsityWeight: 5e-3, folder: folder, python: python == "none" ? nil : python).run())
        if clipModel != "none" {
            runs.append(try DemoRun(modelPath: clipModel, mode: "motion", name: "clip", quick: quick,
                                    defaultSparsityWeight: 3e-3, folder: folder, python: python == "none" ? nil : python).run())
        }
        print("\n== Summary")
        for r in runs {
            print(String(format: "%@: accuracy %.1f%% → %.1f%%, density reduction %.2fx, exports reload the same: %@",
                         r.model, 100 * r.accuracyBefore, 100 * r.accuracyAfter, r.densityReduction,
                         r.exports.allSatisfy { $0.reloadedSame } ? "yes" : "NO")
                  + (r.streamSpeedup.map { String(format: ", streaming %.2fx dense per-frame", $0) } ?? ""))
        }
        if let json {
            // The first (per-frame) run's figures at the top level, as CLI.md lists them; every run under "runs".
            var object = runs[0].json
            object["runs"] = .array(runs.map { .object($0.json) })
            try writeAtomically(JSONValue.object(object).serialized() + "\n", to: json)
        }
        guard runs.allSatisfy({ $0.exports.allSatisfy { $0.reloadedSame } }) else {
            throw CommandFailure(message: "an exported model predicts differently after reloading (see above)")
        }
    }
}

/// The story on one bundled model.
struct DemoRun {
    var modelPath: String
    var mode: String
    var name: String
    var quick: Bool
    /// The sparsity weight λ of a default (not quick) run.
    var defaultSparsityWeight: Double
    var folder: URL
    var python: String?

    /// REPRODUCTION.md's longer refinement: each step starts at this multiple of its channel's
    /// mean |frame-to-frame change|, the teacher's KL weighs 0.8 beside the labels, and the
    /// learning rate decays along a cosine.
    let calibrationScale = 2.0, labelWeight = 0.2

    struct Export { var path: String; var reloadedSame: Bool; var deviation: Double }

    struct Result {
        var model: String
        var accuracyBefore: Double
        var accuracyAfter: Double
        var densityReduction: Double
        var exports: [Export]
        var report: String
        var streamSpeedup: Double?
        var streamMaxDeviation: Double?

        var json: JSONObject {
            var o: JSONObject = ["model": .string(model), "accuracy": ["before": .double(accuracyBefore), "after": .double(accuracyAfter)],
                                 "density_reduction": .double(densityReduction), "report": .string(report),
                                 "exports": .array(exports.map { ["path": .string($0.path), "reloaded_same": .bool($0.reloadedSame),
                                                                  "max_deviation": .double($0.deviation)] })]
            if let streamSpeedup, streamSpeedup.isFinite {
                o["stream"] = ["speedup": .double(streamSpeedup), "max_deviation": .double(streamMaxDeviation ?? .nan)]
            }
            return o
        }
    }

    func section(_ title: String) { print("\n== \(title)") }

    func run() throws -> Result {
        section("\(name): load \(modelPath)")
        let loaded = try KerasModelFile.load(modelPath)
        let dense = loaded.model
        print(dense.summary())
        guard let classes = dense.outputShapes.first?.last.flatMap({ $0 }),
              let side = dense.inputShapes.first?[dense.inputShapes[0].count - 2] else {
            throw CommandFailure(message: "\(modelPath): the demo needs a known input size and class count", code: 2)
        }
        let frames = 8
        // A quick run's two epochs need the larger λ to reduce the density at all.
        let sparsityWeight = quick ? 1e-2 : defaultSparsityWeight
        // 480 held-out clips: on 96, one clip is a whole point of accuracy.
        let (trainClips, testClips, epochs) = quick ? (64, 24, 2) : (640, 480, 24)
        let synth = "synthetic:mode=\(mode),classes=\(classes),frames=\(frames),size=\(side)"
        let train = "\(synth),clips=\(trainClips),seed=2000", test = "\(synth),clips=\(testClips),seed=1000"
        print("data: \(trainClips) training clips (\(train)), \(testClips) held-out clips (seed 1000)")

        section("\(name): deltaize, steps calibrated to \(calibrationScale) × each channel's mean |frame-to-frame change| on 8 training clips")
        var options = DeltaizeOptions()
        options.clipLength = frames
        options.sparsityWeight = sparsityWeight
        options.thresholdGradient = .hybrid
        let delta = try deltaize(dense, options: options)
        try calibrateThresholds(delta.model, on: try ClipSet.load(train, for: delta.model, limit: 8), scale: calibrationScale,
                                statistic: .changes)
        print(delta.table, terminator: "")

        section("\(name): the dense model and the unrefined delta model on held-out clips")
        let clips = try ClipSet.load(test, for: delta.model, limit: testClips)
        let baseline = try measureSparsity(try baselineModel(dense, like: delta.model), on: clips)
        let unrefined = try measureSparsity(delta.model, on: clips)
        print(String(format: "dense: accuracy %.1f%%, spatial MACs per frame %.0f; deltaized before refining: accuracy %.1f%%, delta density %.1f%%",
                     100 * (baseline.accuracy ?? 0), baseline.total.spatialMACs, 100 * (unrefined.accuracy ?? 0),
                     100 * unrefined.total.deltaDensity))

        section("\(name): refine \(epochs) epochs (labels and the dense teacher, λ \(sparsityWeight) with warm-up, hybrid thresholds, "
                + "frozen BatchNorm, cosine decay)")
        var refineOptions = RefineOptions()
        refineOptions.phases = [RefinePhase(epochs: epochs, clipLength: frames, clipsPerBatch: 4)]
        refineOptions.optimizer = try Adam(learningRate: 5e-4)
        refineOptions.teacher = dense
        refineOptions.labelWeight = labelWeight
        refineOptions.distance = .klDivergence(temperature: 2)
        refineOptions.warmupSteps = max(1, min(20, trainClips / 4))
        refineOptions.freezeBatchNorm = true
        refineOptions.cosineDecay = true
        refineOptions.seed = 7
        _ = try refine(delta.model, data: train, options: refineOptions)

        section("\(name): sparsity after refining, per delta layer")
        let after = try measureSparsity(delta.model, on: clips)
        let comparison = SparsityComparison(model: after, baseline: baseline)
        print(comparison.table, terminator: "")
        let report = folder.appendingPathComponent("\(name)_sparsity.html").path
        try writeAtomically(comparison.html(title: "Sparsity of \(URL(fileURLWithPath: modelPath).lastPathComponent), refined"), to: report)
        print("wrote \(report)")

        section("\(name): export and reload")
        let x = try clips.batch(0..<min(2, clips.clips.count), explicitTime: hasExplicitTimeAxis(delta.model))
        let reference = try delta.model.predictOnBatch([x])[0]
        let xPath = folder.appendingPathComponent("\(name)_x.npy").path
        try x.writeNPY(to: URL(fileURLWithPath: xPath))
        var exports: [DemoRun.Export] = []
        for ext in ["h5", "keras"] {
            let path = folder.appendingPathComponent("\(name)_refined.\(ext)").path
            try KerasModelFile.save(delta.model, to: path)
            let swift = try KerasModelFile.load(path).model.predictOnBatch([x])[0]
            var deviation = maxDeviation(swift, reference)
            var note = String(format: "Swift reload max |Δ| %.2g", deviation)
            if let python, FileManager.default.isExecutableFile(atPath: python) {
                let keras = try kerasPrediction(python: python, model: path, x: xPath)
                let d = maxDeviation(keras, reference)
                deviation = max(deviation, d)
                note += String(format: ", Keras 3 (import keras_delta) max |Δ| %.2g", d)
            }
            let same = deviation <= 1e-4
            exports.append(Export(path: path, reloadedSame: same, deviation: deviation))
            print("\(path): \(note) → \(same ? "same" : "DIFFERENT")")
        }
        section("\(name): stream the held-out clips frame by frame through the refined model")
        let video = try streamFrames(test, for: delta.model, from: modelPath, limit: quick ? 64 : 192)
        let stream = try streamingFailure {
            try StreamReport.measure(delta.model, frames: video, options: try StreamRunOptions.parse(["--frames", "\(video.shape[0])"]))
        }
        stream.printSummary()
        return Result(model: modelPath, accuracyBefore: baseline.accuracy ?? 0, accuracyAfter: after.accuracy ?? 0,
                      densityReduction: comparison.densityReduction ?? 0, exports: exports, report: report,
                      streamSpeedup: stream.speedup, streamMaxDeviation: stream.maxDeviation)
    }

    /// Keras 3's prediction of an exported file, in the project's venv.
    private func kerasPrediction(python: String, model: String, x: String) throws -> Tensor {
        let out = folder.appendingPathComponent("keras_y.npy").path
        let script = """
        import os, sys; os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import numpy as np, keras, keras_delta
        m = keras.models.load_model(sys.argv[1], compile=False)
        np.save(sys.argv[3], m.predict(np.load(sys.argv[2]), verbose=0).astype("float32"))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, model, x, out]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: message, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw CommandFailure(message: "\(model): Keras could not reload the export: \(last)")
        }
        return try Tensor(npyFile: URL(fileURLWithPath: out))
    }
}

private func maxDeviation(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).reduce(0) { max($0, relativeDeviation($1.0, from: $1.1)) }
}
