import ArgumentParser
import KerasDelta

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "Print the Keras model.summary() table of a model file.")

    @Argument(help: "A Keras model: legacy .h5 or .keras, detected by content.")
    var model: String

    func run() throws {
        let loaded = try KerasModelFile.load(model)
        print(loaded.model.summary(), terminator: "")
    }
}
