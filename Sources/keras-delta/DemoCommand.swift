import ArgumentParser
import Foundation
import KerasDelta

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "The end-to-end job on the built-in synthetic video set and the bundled Keras model.")

    @Flag(help: "Fewer clips and one epoch.") var quick = false
    @Option(help: "The Keras model to start from.") var model = "models/frame_cnn.h5"
    @Option(name: .shortAndLong, help: "Output folder.") var output = "out/demo"
    @Option(help: "Also write the report as JSON to this file.") var json: String?

    func run() throws {
        let report = try Demo(modelPath: model, outputFolder: URL(fileURLWithPath: output), quick: quick).run()
        guard report.reloadDeviation <= 1e-4 else {
            throw CommandFailure(message: "exported models predict differently after reloading (\(report.reloadDeviation))")
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).writeAtomically(to: URL(fileURLWithPath: json))
        }
    }
}
