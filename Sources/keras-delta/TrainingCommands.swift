import ArgumentParser
import Foundation
import KerasDelta

/// Arrays and compile settings shared by `fit` and `evaluate`.
struct TrainingData: ParsableArguments {
    @Option(help: "Inputs (.npy, first axis = samples).") var x: String
    @Option(help: "Targets (.npy: int labels or float values).") var y: String
    @Option(help: "Loss name (default: the file's training_config).") var loss: String?

    func arrays() throws -> (Tensor, Tensor) {
        (try Tensor(npyFile: URL(fileURLWithPath: x)), try Tensor(npyFile: URL(fileURLWithPath: y)))
    }
}

/// Compiles a loaded model from flags, falling back to the file's training config.
func compile(_ loaded: LoadedModel, path: String, optimizer: String?, learningRate: Float?, loss: String?,
             metrics: [String]) throws {
    let model = loaded.model
    let stored = loaded.trainingConfig?.objectValue
    if optimizer == nil, learningRate == nil, loss == nil, metrics.isEmpty, let stored {
        try model.compile(config: stored)
        return
    }
    var opt: Optimizer
    if let optimizer {
        opt = try Optimizers.get(optimizer)
    } else if let json = stored?["optimizer"] ?? stored?["optimizer_config"], !json.isNull {
        opt = try Optimizers.deserialize(json)
    } else {
        opt = try Optimizers.get("rmsprop")
    }
    if let learningRate { try opt.setLearningRate(learningRate) }
    guard let lossName = loss ?? stored?["loss"]?.stringValue else {
        throw CommandFailure(message: "\(path): no training_config in the file; give --loss", code: 2)
    }
    try model.compile(optimizer: opt, loss: lossName, metrics: metrics.map { $0 as MetricConvertible })
}

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Keras fit: train a model file on .npy arrays and save the result.")

    @Argument(help: "A Keras model file (.h5 or .keras).") var model: String
    @OptionGroup var data: TrainingData
    @Option(name: .shortAndLong, help: "Where to save the trained model (.h5, .keras or .weights.h5).") var output: String
    @Option(help: "Epochs.") var epochs: Int = 1
    @Option(help: "Samples per batch.") var batchSize: Int = 32
    @Flag(help: "Visit batches in order, as Keras with shuffle=False.") var noShuffle = false
    @Option(help: "Optimizer name (default: the file's training_config).") var optimizer: String?
    @Option(help: "Learning rate.") var learningRate: Float?
    @Option(help: "Fraction of samples (the last ones) held out for validation.") var validationSplit: Double = 0
    @Option(help: "Seed for shuffling and random layers.") var seed: UInt64 = 0

    func run() throws {
        let loaded = try KerasModelFile.load(model)
        try compile(loaded, path: model, optimizer: optimizer, learningRate: learningRate, loss: data.loss, metrics: [])
        let (x, y) = try data.arrays()
        RandomState.seed(seed)
        let history = try loaded.model.fit(x: x, y: y, batchSize: batchSize, epochs: epochs, shuffle: !noShuffle, seed: seed,
                                           validationSplit: validationSplit, verbose: 1)
        if let reason = history.stopReason { throw CommandFailure(message: "\(model): \(reason)", code: 1) }
        try KerasModelFile.save(loaded.model, to: output, trainingConfig: loaded.model.compileConfig.map { .object($0) })
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Loss and metrics of a model on .npy arrays.")

    @Argument(help: "A Keras model file (.h5 or .keras).") var model: String
    @OptionGroup var data: TrainingData
    @Option(help: "Comma-separated metric names, e.g. accuracy,mae.") var metrics: String?
    @Option(help: "Samples per batch.") var batchSize: Int = 32

    func run() throws {
        let loaded = try KerasModelFile.load(model)
        let names = metrics?.split(separator: ",").map(String.init) ?? []
        try compile(loaded, path: model, optimizer: nil, learningRate: nil, loss: data.loss, metrics: names)
        let (x, y) = try data.arrays()
        let logs = try loaded.model.evaluate(x: x, y: y, batchSize: batchSize, verbose: 0)
        for (name, value) in logs.sorted(by: { $0.key < $1.key }) { print("\(name): \(value)") }
    }
}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert", abstract: "Convert between .h5, .keras and .weights.h5 (format chosen by OUT's extension).")

    @Argument(help: "The input file.") var input: String
    @Argument(help: "The output file.") var output: String
    @Option(help: "For a weights-only input: the model file that supplies the architecture.") var model: String?

    func run() throws {
        let loaded: LoadedModel
        switch try KerasFileFormat.detect(input) {
        case .legacyWeights, .weightsH5:
            guard let model else {
                throw CommandFailure(message: "\(input): holds weights only; give --model with the architecture", code: 2)
            }
            loaded = try KerasModelFile.load(model)
            try KerasModelFile.loadWeights(into: loaded.model, from: input)
        case .legacyModel, .kerasArchive:
            loaded = try KerasModelFile.load(input)
        }
        try KerasModelFile.save(loaded.model, to: output, trainingConfig: loaded.trainingConfig)
    }
}
