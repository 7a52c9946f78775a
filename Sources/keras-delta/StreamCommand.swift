import ArgumentParser
import Dispatch
import Foundation
import KerasDelta

/// `keras-delta stream MODEL --data VIDEO`: streaming delta inference frame by frame (CLI.md).
struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Streaming delta inference frame by frame: frames/s with deltas and dense, the theoretical ratio, the deviation from the clip forward.")

    @Argument(help: "A delta model (holding DeltaActivation layers): legacy .h5 or .keras.") var model: String
    @OptionGroup var options: StreamRunOptions

    func run() throws {
        try options.check()
        let loaded = try KerasModelFile.load(model).model
        guard loaded.executionOrder.contains(where: { $0.layer is DeltaActivation }) else {
            throw CommandFailure(message: "\(model): the model holds no DeltaActivation layers (run keras-delta deltaize first)", code: 2)
        }
        let frames = try streamFrames(options.data, for: loaded, from: model, limit: options.frames)
        let report = try streamingFailure { try StreamReport.measure(loaded, frames: frames, options: options) }
        print(try StreamingPlan(loaded, options: StreamingOptions(keyFrameEvery: options.keyFrameEvery, denseCutoff: options.denseCutoff)).description)
        report.printSummary()
        if let json = options.json { try writeAtomically(report.json(), to: json) }
    }
}

/// `keras-delta bench stream`: the streaming engine against dense per-frame
/// inference on the same engine and TensorFlow's per-frame predict of the
/// original model, on the same frames.
struct StreamBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Streaming delta inference vs dense per-frame (same engine) vs TensorFlow per-frame predict (see BENCHMARKS.md).")

    @Option(help: "The original Keras model (no delta layers); it is deltaized and calibrated here.") var model = "models/frame_cnn.h5"
    @Option(help: "Calibration: each channel's threshold is this times its mean |activation| (larger: sparser).") var thresholdScale = 0.5
    @Option(help: "Clips of DATA to calibrate on.") var calibrationClips = 4
    @Option(help: "Where deltaize puts delta layers: non-linearities or mac-inputs.") var placement = "non-linearities"
    @Option(help: "Python that runs the TensorFlow baseline (tools/bench/tf_stream_predict.py); 'none' skips it.") var python = ".venv/bin/python"
    @OptionGroup var options: StreamRunOptions

    func run() throws {
        try options.check()
        let original = try KerasModelFile.load(model).model
        guard !original.executionOrder.contains(where: { $0.layer is DeltaActivation }) else {
            throw CommandFailure(message: "\(model): pass the original model, without DeltaActivation layers", code: 2)
        }
        // A clip model's delta layers see its own clip length; a per-frame model's see clips of 8.
        let input = original.inputs[0].shape
        let length = input.count == 5 ? input[1] ?? 8 : 8
        var deltaOptions = DeltaizeOptions()
        deltaOptions.clipLength = 8
        deltaOptions.placement = try deltaPlacement(placement)
        let frames = try streamFrames(options.data, for: original, from: model, limit: options.frames)
        let delta = try deltaize(original, options: deltaOptions).model
        guard frames.shape[0] >= length else {
            throw CommandFailure(message: "\(options.data): \(frames.shape[0]) frames, fewer than one clip of \(length)", code: 2)
        }
        let per = frames.count / frames.shape[0], clipShape = [length] + Array(frames.shape.dropFirst())
        let clips = (0..<max(1, min(calibrationClips, frames.shape[0] / length))).map { i in
            Tensor(shape: clipShape, scalars: Array(frames.scalars[(i * length * per)..<((i + 1) * length * per)]))
        }
        _ = try calibrateThresholds(delta, on: try ClipSet(clips: clips), scale: thresholdScale, clipsPerBatch: 1)
        var report = try streamingFailure { try StreamReport.measure(delta, frames: frames, options: options) }
        report.thresholdScale = thresholdScale
        report.placement = placement
        if python != "none" { report.tensorflow = try tensorflowPredict(frames: frames) }
        report.printSummary()
        if let json = options.json { try writeAtomically(report.json(), to: json) }
    }

    /// Frames/s of TensorFlow predicting one frame at a time with the original model.
    func tensorflowPredict(frames: Tensor) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keras-delta-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let framesURL = dir.appendingPathComponent("frames.npy"), out = dir.appendingPathComponent("tf.json")
        try frames.writeNPY(to: framesURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["tools/bench/tf_stream_predict.py", model, framesURL.path, "--json", out.path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let data = try? Data(contentsOf: out),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let fps = object["frames_per_second"] as? Double else {
            throw CommandFailure(message: "tools/bench/tf_stream_predict.py failed on \(model) (exit \(p.terminationStatus))", code: 1)
        }
        return fps
    }
}

/// Turns a streaming error into the CLI's bad-input failure.
func streamingFailure<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as StreamingError { throw CommandFailure(message: e.description, code: 2) }
}

struct StreamRunOptions: ParsableArguments {
    @Option(help: "Frames: a video file, a folder of videos, a data-synth folder or synthetic[:key=value,…].") var data = "synthetic"
    @Option(help: "A dense recompute every K frames (0: only the first frame).") var keyFrameEvery = 0
    @Option(help: "Streams run at once, one per thread, each over the frames.") var streams = 1
    @Option(help: "At most this many frames.") var frames = 300
    @Option(help: "A linear layer with more than this fraction of changed inputs recomputes densely.") var denseCutoff = 0.5
    @Option(help: "Also write the results as JSON to this file.") var json: String?
    @Flag(help: "Also time every step (one more delta and dense run) and print microseconds per frame by step.") var profile = false

    /// Bad values exit with status 2, as the CLI contract asks.
    func check() throws {
        func bad(_ message: String) -> CommandFailure { CommandFailure(message: message, code: 2) }
        guard keyFrameEvery >= 0 else { throw bad("--key-frame-every must be 0 or positive, got \(keyFrameEvery)") }
        guard streams >= 1 else { throw bad("--streams must be at least 1, got \(streams)") }
        guard frames >= 2 else { throw bad("--frames must be at least 2, got \(frames)") }
        guard denseCutoff >= 0 else { throw bad("--dense-cutoff must be non-negative, got \(denseCutoff)") }
    }
}

/// Frames `[T, H, W, 3]` for `model` (read from `file`, which errors name)
/// from a DATA argument (CLI.md § Data sources, parsed by `DataSourceSpec`):
/// a video file, or the first video of a folder, is decoded by FFmpeg at the
/// model's frame size as one continuous stream; clip sets are loaded by
/// `ClipSet.load` and played one clip after the other.
func streamFrames(_ data: String, for model: Model, from file: String, limit: Int) throws -> Tensor {
    // The clip sources' check that the model takes frames or clips, with the file named.
    var layout = ClipSourceOptions()
    do { try layout.match(model) } catch let e as TrainingError { throw CommandFailure(message: "\(file): \(e)", code: 2) }
    let shape = model.inputs[0].shape
    var video: URL?
    switch try DataSourceSpec.parse(data, subset: .test) {
    case .videoFile(let url): video = url
    case .videoFolder(let url):
        let files = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { !$0.hasPrefix(".") }.sorted()
        guard let first = files.first else { throw CommandFailure(message: "\(data): the folder holds no video", code: 2) }
        video = url.appendingPathComponent(first)
    default: break
    }
    if let url = video {
        // The frame of a per-frame [H, W, 3] or a clip [T, H, W, 3] input.
        let frame = Array(shape.suffix(3))
        guard let h = frame[0], let w = frame[1], frame[2] == 3 else {
            throw CommandFailure(message: "\(file): the model input \(formatShape(shape)) is not RGB frames [H, W, 3]", code: 2)
        }
        let clip = try VideoReader.readClip(.file(url), options: VideoReadOptions(size: (width: w, height: h), maxFrames: limit))
        guard clip.frameCount >= 2 else { throw CommandFailure(message: "\(url.path): fewer than 2 frames decoded", code: 2) }
        return clip.tensor()
    }
    let set = try ClipSet.load(data, for: model, limit: max(1, limit))
    let frame = Array(set.clips[0].shape.dropFirst())
    var scalars: [Float] = []
    var count = 0
    for clip in set.clips where count < limit {
        let take = min(clip.shape[0], limit - count)
        scalars += clip.scalars.prefix(take * frame.reduce(1, *))
        count += take
    }
    return Tensor(shape: [count] + frame, scalars: scalars)
}

/// The figures of `stream` and `bench stream` (CLI.md § JSON outputs).
struct StreamReport {
    var frames = 0
    var deltaFPS = 0.0, denseFPS = 0.0
    var streams = 1
    var streamsDeltaFPS = 0.0, streamsDenseFPS = 0.0
    /// Frames per second of process CPU time with all streams running: equal to one stream's when they share nothing.
    var streamsDeltaCPUFPS = 0.0, streamsDenseCPUFPS = 0.0
    var theoreticalSpeedup = 0.0
    var deltaDensity = 0.0
    /// The streamed outputs against the clip forward.
    var deviation = Deviation()
    /// Dense per-frame inference (a batch of one frame, no delta update)
    /// against the clip forward: how far the model's own outputs move with
    /// the order of float sums, when a value sits at a delta layer's rounding boundary.
    var denseDeviation = Deviation()
    /// The streamed outputs against dense per-frame inference: what the delta updates add.
    var deviationFromDense = Deviation()
    var maxDeviation: Double { deviation.max }
    var keyFrameEvery = 0
    var denseMACs = 0, deltaMACs = 0, macsDone = 0
    var thresholdScale: Double?
    /// How the bench deltaized the model (`--placement`).
    var placement: String?
    var tensorflow: Double?
    /// Frames per second of process CPU time: robust to other load on the machine.
    var deltaCPUFPS = 0.0, denseCPUFPS = 0.0
    var loadAverage = 0.0
    /// Passes over the frames in each timed window, delta and dense.
    var passes = (delta: 1, dense: 1)
    /// With `--profile`: each step's name and microseconds per frame, delta and dense.
    var stepProfile: [(name: String, delta: Double, dense: Double, changed: Double)] = []

    var speedup: Double { deltaFPS / denseFPS }
    var achievedFraction: Double { speedup / theoreticalSpeedup }

    /// Streams `frames` through `model` with deltas and densely, times both,
    /// and compares every streamed frame with the clip forward.
    static func measure(_ model: Model, frames: Tensor, options: StreamRunOptions) throws -> StreamReport {
        let plan = try StreamingPlan(model, options: StreamingOptions(keyFrameEvery: options.keyFrameEvery, denseCutoff: options.denseCutoff))
        let count = frames.shape[0], per = frames.count / count
        if let clip = plan.clipLength, count < clip {
            throw CommandFailure(message: "\(count) frames, fewer than one clip of \(clip) for the model", code: 2)
        }
        let frameShape = [1] + Array(frames.shape.dropFirst())
        let list = (0..<count).map { t in Tensor(shape: frameShape, scalars: Array(frames.scalars[(t * per)..<((t + 1) * per)])) }
        var report = StreamReport()
        report.frames = count
        report.streams = options.streams
        report.keyFrameEvery = options.keyFrameEvery

        /// Streams the frames `passes` times (a reset between passes, so each pass is the same work)
        /// and returns the wall-clock and CPU seconds of one pass, the outputs (one per frame, or per
        /// clip of a clip model) and the statistics of the first pass.
        func run(_ stream: DeltaStream, keep: Bool, passes: Int = 1)
            throws -> (seconds: Double, cpu: Double, outputs: [[Float]], statistics: StreamStatistics) {
            var outputs: [[Float]] = []
            var statistics = StreamStatistics()
            let start = DispatchTime.now().uptimeNanoseconds, cpu = processCPUSeconds()
            for pass in 0..<passes {
                if pass > 0 { stream.reset() }
                let keepPass = keep && pass == 0
                for f in list {
                    if let y = try stream.push([f]), keepPass { outputs.append(y[0].scalars) }
                }
                if pass == 0 { statistics = stream.statistics }
                if plan.clipLength != nil {
                    // The frames still in flight through the temporal convolutions, then a reset.
                    let rest = try stream.finish()
                    if keepPass { outputs += rest.map { $0[0].scalars } }
                }
            }
            let n = Double(passes)
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / n, (processCPUSeconds() - cpu) / n, outputs, statistics)
        }
        report.loadAverage = currentLoadAverage()
        // Warm-up, which also sets how many passes make a timed window of at least
        // a quarter second (short windows are at the mercy of other load).
        func passes(dense: Bool) throws -> Int {
            let s = plan.makeStream()
            s.alwaysDense = dense
            return max(1, Int((0.25 / max(try run(s, keep: false).seconds, 1e-6)).rounded(.up)))
        }
        let deltaPasses = try passes(dense: false), densePasses = try passes(dense: true)
        report.passes = (deltaPasses, densePasses)
        // Delta and dense alternately, best of three (the machine is shared).
        var deltaBest = Double.infinity, denseBest = Double.infinity, deltaCPU = Double.infinity, denseCPU = Double.infinity
        var outputs: [[Float]] = [], denseOutputs: [[Float]] = []
        var statistics = StreamStatistics()
        for _ in 0..<3 {
            let s = plan.makeStream()
            let (t, c, out, stats) = try run(s, keep: outputs.isEmpty, passes: deltaPasses)
            if outputs.isEmpty { outputs = out; statistics = stats }
            deltaBest = min(deltaBest, t)
            deltaCPU = min(deltaCPU, c)
            let d = plan.makeStream()
            d.alwaysDense = true
            let dense = try run(d, keep: denseOutputs.isEmpty, passes: densePasses)
            if denseOutputs.isEmpty { denseOutputs = dense.outputs }
            denseBest = min(denseBest, dense.seconds)
            denseCPU = min(denseCPU, dense.cpu)
        }
        report.deltaFPS = Double(count) / deltaBest
        report.denseFPS = Double(count) / denseBest
        report.deltaCPUFPS = Double(count) / deltaCPU
        report.denseCPUFPS = Double(count) / denseCPU
        report.theoreticalSpeedup = statistics.theoreticalSpeedup
        report.deltaDensity = statistics.deltaDensity
        report.denseMACs = statistics.denseMACs
        report.deltaMACs = statistics.deltaMACs
        report.macsDone = statistics.macs
        if options.profile {
            // Best of three per step: the machine is shared.
            var delta = [Double](repeating: .infinity, count: plan.steps.count), dense = delta
            var changes = [Int](repeating: 0, count: plan.steps.count)
            for _ in 0..<3 {
                let d = plan.makeStream(), e = plan.makeStream()
                d.profile = true
                e.profile = true
                e.alwaysDense = true
                _ = try run(d, keep: false)
                _ = try run(e, keep: false)
                for k in plan.steps.indices {
                    delta[k] = min(delta[k], Double(d.stepNanoseconds[k]) / 1e3 / Double(count))
                    dense[k] = min(dense[k], Double(e.stepNanoseconds[k]) / 1e3 / Double(count))
                }
                changes = d.stepChanges
            }
            report.stepProfile = plan.steps.indices.map { k in
                (plan.steps[k].name, delta[k], dense[k], Double(changes[k]) / Double(count * plan.steps[k].outputCount))
            }
        }

        if options.streams > 1 {
            /// Frames per second of wall-clock and of process CPU time, all streams together.
            func parallel(dense: Bool) throws -> (Double, Double) {
                let streams = (0..<options.streams).map { _ in plan.makeStream() }
                for s in streams { s.alwaysDense = dense }
                let failures = FailureBox()
                let start = DispatchTime.now().uptimeNanoseconds, cpu = processCPUSeconds()
                DispatchQueue.concurrentPerform(iterations: options.streams) { i in
                    do { _ = try run(streams[i], keep: false, passes: dense ? densePasses : deltaPasses) } catch { failures.record(error) }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds = processCPUSeconds() - cpu
                if let e = failures.error { throw e }
                let frames = Double(count * options.streams * (dense ? densePasses : deltaPasses))
                return (frames / seconds, frames / cpuSeconds)
            }
            for _ in 0..<3 {
                let (delta, deltaCPU) = try parallel(dense: false)
                let (dense, denseCPU) = try parallel(dense: true)
                report.streamsDeltaFPS = max(report.streamsDeltaFPS, delta)
                report.streamsDenseFPS = max(report.streamsDenseFPS, dense)
                report.streamsDeltaCPUFPS = max(report.streamsDeltaCPUFPS, deltaCPU)
                report.streamsDenseCPUFPS = max(report.streamsDenseCPUFPS, denseCPU)
            }
        }

        // The clip forward in chunks of whole clips (frames as the batch, or clips of a clip model).
        let clip = plan.clipLength ?? model.executionOrder.compactMap { ($0.layer as? DeltaActivation)?.clipLength }.first ?? 1
        let chunk = max(clip, (64 / clip) * clip)
        let outputsPerFrame = plan.clipLength == nil
        var start = 0
        while start + clip <= count {
            let n = min(chunk, (count - start) / clip * clip)
            let shape = plan.clipLength == nil ? [n] : [n / clip, clip]
            let batch = Tensor(shape: shape + Array(frames.shape.dropFirst()), scalars: Array(frames.scalars[(start * per)..<((start + n) * per)]))
            let y = try model.predictOnBatch([batch])[0]
            let rows = y.shape[0], outPer = y.count / rows, first = outputsPerFrame ? start : start / clip
            for t in 0..<rows {
                let reference = Array(y.scalars[(t * outPer)..<((t + 1) * outPer)])
                report.deviation.add(outputs[first + t], reference)
                report.denseDeviation.add(denseOutputs[first + t], reference)
                report.deviationFromDense.add(outputs[first + t], denseOutputs[first + t])
            }
            start += n
        }
        return report
    }

    /// The largest relative deviation of outputs from their references, and
    /// how many outputs (frames, or clips of a clip model) exceed 1e-4·(1+|y|).
    struct Deviation {
        var max = 0.0
        var beyondTolerance = 0, compared = 0

        mutating func add(_ output: [Float], _ reference: [Float]) {
            let row = zip(output, reference).reduce(0.0) { Swift.max($0, relativeDeviation($1.0, from: $1.1)) }
            max = Swift.max(max, row)
            if !(row <= 1e-4) { beyondTolerance += 1 }
            compared += 1
        }

        var summary: String { String(format: "%.2e (%d of %d outputs beyond 1e-4)", max, beyondTolerance, compared) }
        var json: JSONValue {
            ["max": max.isFinite ? .double(max) : .null, "outputs_beyond_tolerance": .int(beyondTolerance), "outputs_compared": .int(compared)]
        }
    }

    func printSummary() {
        print(String(format: "%d frames (timed over %d and %d passes): delta %.1f frames/s, dense %.1f frames/s (same engine): %.2fx",
                     frames, passes.delta, passes.dense, deltaFPS, denseFPS, speedup))
        print(String(format: "per CPU-second: delta %.1f, dense %.1f frames: %.2fx (load average %.1f)",
                     deltaCPUFPS, denseCPUFPS, deltaCPUFPS / denseCPUFPS, loadAverage))
        print(String(format: "theoretical %.2fx (dense MACs / delta MACs), achieved %.0f %%, delta density %.4f, max deviation ",
                     theoreticalSpeedup, 100 * achievedFraction, deltaDensity) + deviation.summary)
        print("deviation of dense per-frame inference from the clip forward \(denseDeviation.summary); "
              + "of the streamed outputs from dense per-frame \(deviationFromDense.summary)")
        if !stepProfile.isEmpty {
            print("microseconds per frame by step (delta, dense) and the fraction of its output changed per frame (delta):")
            let rows = stepProfile.map { [$0.name, String(format: "%.2f", $0.delta), String(format: "%.2f", $0.dense), String(format: "%.4f", $0.changed)] }
            let total = ["total", String(format: "%.2f", stepProfile.reduce(0) { $0 + $1.delta }),
                         String(format: "%.2f", stepProfile.reduce(0) { $0 + $1.dense }), ""]
            print(renderTable([["step", "delta µs", "dense µs", "changed"]] + rows + [total], rightAligned: [1, 2, 3]), terminator: "")
        }
        if streams > 1 {
            print(String(format: "%d streams: delta %.1f frames/s (%.2fx one stream), dense %.1f frames/s (%.2fx one stream)",
                         streams, streamsDeltaFPS, streamsDeltaFPS / deltaFPS, streamsDenseFPS, streamsDenseFPS / denseFPS))
            print(String(format: "%d streams per CPU-second: delta %.1f frames (%.2fx one stream), dense %.1f frames (%.2fx one stream)",
                         streams, streamsDeltaCPUFPS, streamsDeltaCPUFPS / deltaCPUFPS, streamsDenseCPUFPS, streamsDenseCPUFPS / denseCPUFPS))
        }
        if let tensorflow {
            print(String(format: "TensorFlow per-frame predict of the original model: %.1f frames/s; delta streaming %.2fx, dense same engine %.2fx",
                         tensorflow, deltaFPS / tensorflow, denseFPS / tensorflow))
        }
    }

    /// The figures as one JSON object (non-finite numbers as null).
    func json() -> String {
        func number(_ d: Double) -> JSONValue { d.isFinite ? .double(d) : .null }
        var o: JSONObject = [
            "workload": "stream", "engine": "keras-delta streaming",
            "frames": .int(frames),
            "frames_per_second": ["delta": number(deltaFPS), "dense": number(denseFPS)],
            "speedup": number(speedup), "theoretical_speedup": number(theoreticalSpeedup), "achieved_fraction": number(achievedFraction),
            "delta_density": number(deltaDensity), "max_deviation": number(maxDeviation),
            "outputs_beyond_tolerance": .int(deviation.beyondTolerance), "outputs_compared": .int(deviation.compared),
            "dense_deviation": denseDeviation.json, "deviation_from_dense": deviationFromDense.json,
            "key_frame_every": .int(keyFrameEvery),
            "macs": ["dense": .int(denseMACs), "delta": .int(deltaMACs), "done": .int(macsDone)],
            "streams": .int(streams),
            "frames_per_cpu_second": ["delta": number(deltaCPUFPS), "dense": number(denseCPUFPS)],
            "speedup_cpu": number(deltaCPUFPS / denseCPUFPS), "load_average": number(loadAverage),
            "passes_per_timing": ["delta": .int(passes.delta), "dense": .int(passes.dense)],
        ]
        if streams > 1 {
            o["streams_frames_per_second"] = ["delta": number(streamsDeltaFPS), "dense": number(streamsDenseFPS)]
            o["streams_frames_per_cpu_second"] = ["delta": number(streamsDeltaCPUFPS), "dense": number(streamsDenseCPUFPS)]
        }
        if let thresholdScale { o["threshold_scale"] = number(thresholdScale) }
        if let placement { o["placement"] = .string(placement) }
        if let tensorflow {
            o["baseline"] = ["engine": "tensorflow predict_on_batch, one frame", "frames_per_second": number(tensorflow)]
            o["speedup_over_tensorflow"] = number(deltaFPS / tensorflow)
        }
        if !stepProfile.isEmpty {
            o["steps_microseconds_per_frame"] = .array(stepProfile.map { p in
                ["step": .string(p.name), "delta": number(p.delta), "dense": number(p.dense), "changed_fraction": number(p.changed)]
            })
        }
        return JSONValue.object(o).serialized() + "\n"
    }
}

/// `|value − reference| / (1 + |reference|)`, the measure of the 1e-4
/// tolerance: 0 where both are NaN or the same infinity, infinite where only
/// one is NaN or infinite.
func relativeDeviation(_ value: Float, from reference: Float) -> Double {
    if value == reference || (value.isNaN && reference.isNaN) { return 0 }
    let d = abs(Double(value) - Double(reference)) / (1 + abs(Double(reference)))
    return d.isNaN ? .infinity : d
}

/// CPU seconds of this process (all threads).
private func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The 1-minute load average, to judge how shared the machine was.
private func currentLoadAverage() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return 0 }
    return Double(s.split(separator: " ").first ?? "") ?? 0
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) { lock.lock(); error = error ?? e; lock.unlock() }
}
