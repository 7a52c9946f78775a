import ArgumentParser
import Foundation
import KerasDelta

/// `bench fusion`: inference with fused convolution chains (`predictOnBatch`)
/// next to the same graph walked layer by layer, as Sequential models ran
/// before they shared the functional executor.
struct FusionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fusion", abstract: "Predict frames/s with inference fusion next to plain layer-by-layer calls (alternating).")
    @OptionGroup var options: ModelBenchOptions
    @Option(help: "Alternating rounds (the median is reported).") var rounds: Int = 5

    func run() throws {
        let model = try KerasModelFile.load(options.model).model
        let x = Tensor(shape: [options.batchSize] + model.inputShapes[0].dropFirst().map { $0 ?? 1 },
                       scalars: (0..<(options.batchSize * model.inputShapes[0].dropFirst().reduce(1) { $0 * ($1 ?? 1) }))
                           .map { Float($0 % 255) })
        func timed(_ body: () throws -> Void) throws -> Double {
            for _ in 0..<2 { try body() }
            let start = Date()
            for _ in 0..<options.steps { try body() }
            return Double(options.batchSize * options.steps) / Date().timeIntervalSince(start)
        }
        var fused: [Double] = [], plain: [Double] = []
        for _ in 0..<max(1, rounds) {
            fused.append(try timed { _ = try model.predictOnBatch([x]) })
            plain.append(try timed {
                _ = try withoutGradient { try model.runThroughGraph([x], freeing: true) { node, args, _ in try node.layer(args, training: false) } }
            })
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        let ratios = zip(fused, plain).map { $0 / $1 }
        print(String(format: "%@ (%@) batch %d: fused %.1f frames/s, layer by layer %.1f frames/s: %.2fx (median of %d rounds)",
                     options.modelName, type(of: model).className, options.batchSize, median(fused), median(plain),
                     median(ratios), ratios.count))
    }
}
