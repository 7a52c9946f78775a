import ArgumentParser
import Foundation
import KerasDelta

/// `bench delta`: what the delta layers cost at inference. The plain model and
/// its deltaized copy predict the same batch, in alternating rounds.
struct DeltaBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta", abstract: "Predict frames/s of a deltaized model next to the plain model (same batch, alternating).")
    @OptionGroup var options: ModelBenchOptions
    @Option(help: "Alternating rounds of plain and delta runs (the median ratio is reported).") var rounds: Int = 5
    @Option(help: "Threshold of the delta layers.") var threshold: Double = 0.05

    func run() throws {
        let plain = try KerasModelFile.load(options.model).model
        var deltaOptions = DeltaizeOptions()
        deltaOptions.thresholdInit = threshold
        deltaOptions.clipLength = options.batchSize
        let delta = try deltaize(plain, options: deltaOptions)
        var ratios: [Double] = [], plainFPS: [Double] = [], deltaFPS: [Double] = []
        for _ in 0..<max(1, rounds) {
            let p = try ModelBenchmark.predict(plain, name: options.modelName, batch: options.batchSize, steps: options.steps)
            let d = try ModelBenchmark.predict(delta.model, name: options.modelName + " deltaized", batch: options.batchSize,
                                               steps: options.steps)
            plainFPS.append(p.framesPerSecond)
            deltaFPS.append(d.framesPerSecond)
            ratios.append(d.framesPerSecond / p.framesPerSecond)
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        print(String(format: "%@ batch %d: plain %.1f frames/s, deltaized (%d delta layers) %.1f frames/s: %.2fx the plain model (median of %d rounds)",
                     options.modelName, options.batchSize, median(plainFPS), delta.placements.count, median(deltaFPS),
                     median(ratios), ratios.count))
        if let json {
            let result: JSONValue = ["workload": .string("predict \(options.modelName) batch \(options.batchSize) deltaized"),
                                     "engine": "keras-delta", "frames_per_second": .double(median(deltaFPS)),
                                     "baseline": ["engine": "keras-delta, no delta layers", "frames_per_second": .double(median(plainFPS))],
                                     "ratio": .double(median(ratios)), "delta_layers": .int(delta.placements.count)]
            try writeAtomically(result.serialized() + "\n", to: json)
        }
    }

    private var json: String? { options.json }
}
