import ArgumentParser
import Foundation
import KerasDelta

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Run inference on .npy inputs.")

    @Argument(help: "A Keras model: legacy .h5 or .keras.")
    var model: String

    @Option(name: .shortAndLong, help: "An input .npy file; one per model input, in the model's input order.")
    var input: [String]

    @Option(name: .shortAndLong, help: "Where to write the output .npy (float32).")
    var output: String

    @Option(help: "Which model output to write when the model has several.")
    var outputIndex: Int = 0

    @Option(help: "Samples per forward pass.")
    var batchSize: Int = 32

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        let model = try KerasModelFile.load(self.model).model
        let xs = try input.map { try Tensor(npyFile: URL(fileURLWithPath: $0)) }
        guard xs.count == model.inputs.count else {
            throw CommandFailure(message: "\(self.model): the model has \(model.inputs.count) input(s), \(xs.count) -i given", code: 2)
        }
        guard outputIndex >= 0 && outputIndex < model.outputs.count else {
            throw CommandFailure(message: "\(self.model): --output-index \(outputIndex) but the model has \(model.outputs.count) output(s)", code: 2)
        }
        let y = try model.predict(x: xs, batchSize: batchSize, verbose: 0)[outputIndex]
        try y.writeNPY(to: URL(fileURLWithPath: output))
    }
}
