import ArgumentParser
import Foundation
import KerasDelta

/// `bench refine`: the refine step of a deltaized model, as `refine` runs it
/// with labels (SGD with momentum, sparse crossentropy plus the delta
/// losses, accuracy), on whole clips of random frames.
/// tools/bench/bench_refine.py times the same step in TensorFlow.
struct RefineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine", abstract: "Frames/s of the refine step of a deltaized model (a plain model is deltaized first).")
    @Option(help: "A Keras model file; one without DeltaActivation layers is deltaized with --clip-length.") var model: String
    @Option(help: "Frames per clip.") var clipLength: Int = 8
    @Option(help: "Clips per step.") var clips: Int = 2
    @Option(help: "Timed steps (after 3 warm-up steps).") var steps: Int = 10
    @Option(help: "Also write the result as JSON to this file.") var json: String?
    @Flag(help: "Also time, alternating, the step without delta losses (clip length 1) and the plain model (needs a plain model file).")
    var profile = false

    func run() throws {
        guard clipLength >= 1, clips >= 1, steps >= 1 else {
            throw CommandFailure(message: "--clip-length, --clips and --steps must be at least 1", code: 2)
        }
        var net = try KerasModelFile.load(model).model
        var plain: Model?
        if !net.layers.contains(where: { $0 is DeltaActivation }) {
            var options = DeltaizeOptions()
            options.clipLength = clipLength
            plain = net
            net = try deltaize(net, options: options).model
        }
        let deltas = net.layers.compactMap { $0 as? DeltaActivation }
        for d in deltas { d.clipLength = clipLength }
        let batch = clipLength * clips
        guard let shape = net.inputShapes.first, net.inputShapes.count == 1, !shape.dropFirst().contains(nil) else {
            throw CommandFailure(message: "\(model): the benchmark needs one input with a fully known shape", code: 2)
        }
        var g = SeededGenerator(seed: 1)
        let x = Tensor.randomUniform([batch] + shape.dropFirst().map { $0! }, generator: &g)
        let classes = net.outputShapes.first?.last.flatMap { $0 } ?? 1
        // Per-frame labels, one class per clip.
        let y = Tensor(shape: [batch], scalars: (0..<batch).map { Float(($0 / clipLength) % classes) })
        let softmax = net.outputs[0].layer is Softmax || net.outputs[0].layer.getConfig()["activation"]?.stringValue == "softmax"
        try net.compile(optimizer: SGD(learningRate: 1e-3, momentum: 0.9), loss: SparseCategoricalCrossentropy(fromLogits: !softmax),
                        metrics: ["accuracy"])
        for _ in 0..<3 { _ = try net.trainOnBatch(x: x, y: y) }
        let start = Date()
        var logs: Logs = [:]
        for _ in 0..<steps { logs = try net.trainOnBatch(x: x, y: y) }
        let seconds = Date().timeIntervalSince(start)
        if profile { try runProfile(net, plain: plain, deltas: deltas, x: x, y: y, softmax: softmax) }
        let name = URL(fileURLWithPath: model).lastPathComponent
        let workload = "refine \(name) \(clips) clips x \(clipLength) frames"
        let (framesPerSecond, secondsPerStep) = (Double(batch * steps) / seconds, seconds / Double(steps))
        print(String(format: "%@: %.1f frames/s (%.1f ms/step), %d delta layers, loss %.4f", workload, framesPerSecond,
                     1000 * secondsPerStep, deltas.count, logs["loss"] ?? .nan))
        if let json {
            let result: JSONValue = ["workload": .string(workload), "engine": "swift", "frames_per_second": .double(framesPerSecond),
                                     "seconds_per_step": .double(secondsPerStep), "delta_layers": .int(deltas.count),
                                     "loss": .double(logs["loss"] ?? .nan)]
            try writeAtomically(result.serialized() + "\n", to: json)
        }
    }

    /// Seconds per step, alternating one step of each variant: the full refine
    /// step, the same without the delta losses (quantization only), and the
    /// plain model; the median over `steps` rounds.
    private func runProfile(_ net: Model, plain: Model?, deltas: [DeltaActivation], x: Tensor, y: Tensor, softmax: Bool) throws {
        if let plain {
            try plain.compile(optimizer: SGD(learningRate: 1e-3, momentum: 0.9), loss: SparseCategoricalCrossentropy(fromLogits: !softmax),
                              metrics: ["accuracy"])
            for _ in 0..<3 { _ = try plain.trainOnBatch(x: x, y: y) }
        }
        var times: [String: [Double]] = [:]
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let start = Date()
            try body()
            times[name, default: []].append(Date().timeIntervalSince(start))
        }
        for _ in 0..<steps {
            try time("refine step") { _ = try net.trainOnBatch(x: x, y: y) }
            for d in deltas { d.clipLength = 1 }
            try time("without delta losses") { _ = try net.trainOnBatch(x: x, y: y) }
            for d in deltas { d.clipLength = clipLength }
            if let plain { try time("plain model") { _ = try plain.trainOnBatch(x: x, y: y) } }
        }
        for name in ["refine step", "without delta losses", "plain model"] {
            guard let t = times[name] else { continue }
            print(String(format: "  %-22@ %.1f ms/step (median of %d)", name as NSString, 1000 * t.sorted()[t.count / 2], t.count))
        }
    }
}
