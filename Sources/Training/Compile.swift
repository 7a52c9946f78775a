import Layers
import Tensor

// MARK: What compile accepts

/// Anything `compile` takes as an optimizer: an ``Optimizer`` or a Keras name (`"adam"`).
public protocol OptimizerConvertible {
    func makeOptimizer() throws -> Optimizer
    /// How Keras's compile config records it.
    var compileConfigValue: JSONValue { get }
}

extension Optimizer: OptimizerConvertible {
    public func makeOptimizer() throws -> Optimizer { self }
    public var compileConfigValue: JSONValue { serialize() }
}

extension String: OptimizerConvertible {
    public func makeOptimizer() throws -> Optimizer { try Optimizers.get(self) }
    public var compileConfigValue: JSONValue { .string(self) }
}

/// Anything `compile` takes as a loss: a ``Loss`` or a Keras name
/// (`"mse"`, `"sparse_categorical_crossentropy"`, or `"crossentropy"` to pick
/// binary/sparse/categorical from the shapes, as Keras does).
public protocol LossConvertible {
    func resolveLoss(yTrue: Tensor, yPred: Tensor) throws -> Loss
    var compileConfigValue: JSONValue { get }
}

extension Loss: LossConvertible {
    public func resolveLoss(yTrue: Tensor, yPred: Tensor) throws -> Loss { self }
    public var compileConfigValue: JSONValue { serialize() }
}

extension String: LossConvertible {
    public func resolveLoss(yTrue: Tensor, yPred: Tensor) throws -> Loss {
        guard ["crossentropy", "ce"].contains(lowercased()) else { return try Losses.get(self) }
        let (binary, sparse) = binaryOrSparse(yTrue, yPred)
        let loss: Loss = binary ? BinaryCrossentropy() : sparse ? SparseCategoricalCrossentropy() : CategoricalCrossentropy()
        loss.name = self
        return loss
    }
}

/// Anything `compile` takes as a metric: a ``Metric`` or a Keras name. The name
/// `"accuracy"` (or `"acc"`) becomes binary, sparse categorical or categorical
/// accuracy from the shapes of targets and predictions, as in Keras.
public protocol MetricConvertible {
    func resolveMetric(yTrue: Tensor, yPred: Tensor) throws -> Metric
    var compileConfigValue: JSONValue { get }
}

extension Metric: MetricConvertible {
    public func resolveMetric(yTrue: Tensor, yPred: Tensor) throws -> Metric { self }
    public var compileConfigValue: JSONValue { serialize() }
}

extension String: MetricConvertible {
    public func resolveMetric(yTrue: Tensor, yPred: Tensor) throws -> Metric {
        let metric: Metric
        if ["accuracy", "acc"].contains(lowercased()) {
            let (binary, sparse) = binaryOrSparse(yTrue, yPred)
            metric = binary ? BinaryAccuracy() : sparse ? SparseCategoricalAccuracy() : CategoricalAccuracy()
        } else {
            metric = try Metrics.get(self)
        }
        metric.name = self
        return metric
    }
}

/// Keras's `is_binary_or_sparse_categorical`.
func binaryOrSparse(_ yTrue: Tensor, _ yPred: Tensor) -> (binary: Bool, sparse: Bool) {
    let binary = yPred.shape.last == 1
    let sparse = yTrue.rank < yPred.rank || (yTrue.shape.last == 1 && (yPred.shape.last ?? 0) > 1)
    return (binary, sparse)
}

// MARK: The compiled state

/// What `compile` set up for a model: the optimizer, the loss and metrics of
/// each output, and the running loss. Losses and metrics given by name are
/// resolved on the first batch, when the shapes are known.
public final class TrainingState {
    public let optimizer: Optimizer
    /// The names of the model outputs (their layers' names), for log keys; known after the first batch.
    public private(set) var outputNames: [String] = []
    /// The config Keras's `model.get_compile_config()` would give.
    public let compileConfig: JSONObject
    /// Set by callbacks to end `fit` after the current batch.
    public var stopTraining = false
    /// The History of the last `fit`.
    public internal(set) var history: History?

    /// One loss per output, or one shared by all (`sharedLoss`).
    private let lossSpecs: [LossConvertible?]
    private let sharedLoss: Bool
    private let lossWeights: [Float]?
    private let metricSpecs: [[MetricConvertible]]
    private let weightedMetricSpecs: [[MetricConvertible]]
    private(set) var losses: [Loss?] = []
    private(set) var metrics: [[Metric]] = []
    private(set) var weightedMetrics: [[Metric]] = []
    let lossTracker = Mean(name: "loss")
    private(set) var outputLossTrackers: [Mean?] = []
    private(set) var built = false
    /// The model compiled with this state, whose layers add training metrics.
    weak var model: Model?
    /// The log name of the task loss (the compiled or custom loss, before added
    /// losses), shown beside `loss` once a named added loss has been seen.
    public var taskLossName = "task_loss"
    /// The sums of added losses by name (`delta_loss`), in order of first appearance.
    private(set) var namedLossTrackers: [Mean] = []
    private lazy var taskLossTracker = Mean(name: taskLossName)
    /// Running means logged by a custom loss function, by name.
    private var loggedMeans: [(name: String, sum: Double, count: Double)] = []
    /// The state of the shuffle generator of the running `fit`, for checkpoints.
    var shuffleState: [UInt64]?

    init(optimizer: Optimizer, losses: [LossConvertible?], sharedLoss: Bool, lossWeights: [Float]?,
         metrics: [[MetricConvertible]], weightedMetrics: [[MetricConvertible]], compileConfig: JSONObject) {
        self.optimizer = optimizer
        self.lossSpecs = losses
        self.sharedLoss = sharedLoss
        self.lossWeights = lossWeights
        self.metricSpecs = metrics
        self.weightedMetricSpecs = weightedMetrics
        self.compileConfig = compileConfig
    }

    /// Resolves names into losses and metrics from the first batch (a
    /// Sequential model learns its outputs only then).
    func build(yTrue: [Tensor], yPred: [Tensor], outputNames names: [String]) throws {
        guard !built else { return }
        let n = yPred.count
        guard yTrue.count == n else {
            throw TrainingError.invalidData("the model has \(n) output(s) but \(yTrue.count) target array(s) were given")
        }
        let specs = sharedLoss ? [LossConvertible?](repeating: lossSpecs.first ?? nil, count: n) : lossSpecs
        guard specs.count == n, lossWeights.map({ $0.count == n }) ?? true else {
            throw TrainingError.badConfig("the model has \(n) output(s) but was compiled with \(specs.count) loss(es)"
                                          + (lossWeights.map { " and \($0.count) loss weight(s)" } ?? ""))
        }
        func perOutput(_ lists: [[MetricConvertible]]) throws -> [[MetricConvertible]] {
            if lists.count == n { return lists }
            guard lists.allSatisfy({ $0.isEmpty }) else {
                throw TrainingError.badConfig("the model has \(n) outputs: give metrics per output with `compile(optimizer:losses:outputMetrics:)`")
            }
            return [[MetricConvertible]](repeating: [], count: n)
        }
        let metricLists = try perOutput(metricSpecs), weightedLists = try perOutput(weightedMetricSpecs)
        outputNames = names
        losses = try zip(specs, zip(yTrue, yPred)).map { spec, ty in try spec?.resolveLoss(yTrue: ty.0, yPred: ty.1) }
        let counted = losses.compactMap { $0 }.count
        outputLossTrackers = losses.enumerated().map { i, l in
            l != nil && counted > 1 ? Mean(name: "\(names[i])_loss") : nil
        }
        func resolve(_ lists: [[MetricConvertible]]) throws -> [[Metric]] {
            try lists.enumerated().map { i, list in try list.map { try $0.resolveMetric(yTrue: yTrue[i], yPred: yPred[i]) } }
        }
        metrics = try resolve(metricLists)
        weightedMetrics = try resolve(weightedLists)
        built = true
    }

    /// The weighted sum of the outputs' losses; records each output's loss
    /// when there are several. `masks` are the outputs' masks.
    func compiledLoss(yTrue: [Tensor], yPred: [Tensor], masks: [Tensor?], sampleWeight: Tensor?) throws -> Tensor? {
        var total: Tensor?
        for (i, loss) in losses.enumerated() {
            guard let loss else { continue }
            var value = try loss(yTrue[i], yPred[i], sampleWeight: sampleWeight, mask: masks[i])
            try outputLossTrackers[i]?.update(value.detached, sampleWeight: Tensor(Float(yPred[i].shape.first ?? 1)))
            if let w = lossWeights?[i] { value = value * w }
            total = try total.map { try $0 + value } ?? value
        }
        return total
    }

    /// Updates the compiled metrics with a batch and the outputs' masks.
    func updateMetrics(yTrue: [Tensor], yPred: [Tensor], masks: [Tensor?], sampleWeight: Tensor?) throws {
        for (i, list) in metrics.enumerated() {
            for m in list { try m.update(yTrue: yTrue[i], yPred: yPred[i], sampleWeight: nil, mask: masks[i]) }
        }
        for (i, list) in weightedMetrics.enumerated() {
            for m in list { try m.update(yTrue: yTrue[i], yPred: yPred[i], sampleWeight: sampleWeight, mask: masks[i]) }
        }
    }

    /// Every metric with the name it is logged under, in Keras's order.
    var namedMetrics: [(String, Metric)] {
        var out: [(String, Metric)] = [("loss", lossTracker)]
        var seen: Set<String> = ["loss"]
        let prefix = { (i: Int) in self.outputNames.count > 1 ? "\(self.outputNames[i])_" : "" }
        for (i, list) in metrics.enumerated() {
            for m in list {
                var name = prefix(i) + m.name
                if seen.contains(name) {
                    var k = 1
                    while seen.contains("\(name)_\(k)") { k += 1 }
                    name = "\(name)_\(k)"
                }
                seen.insert(name)
                out.append((name, m))
            }
        }
        for (i, list) in weightedMetrics.enumerated() {
            for m in list {
                var name = prefix(i) + m.name
                if seen.contains(name) { name = prefix(i) + "weighted_" + m.name }
                seen.insert(name)
                out.append((name, m))
            }
        }
        for tracker in outputLossTrackers.compactMap({ $0 }) { out.append((tracker.name, tracker)) }
        return out
    }

    /// The current value of every metric, keyed by log name: the compiled
    /// ones, then the named added losses, the custom loss function's means and
    /// the layers' ``Layer/trainingMetrics()`` (once they have values).
    var results: Logs {
        var logs = Dictionary(namedMetrics.map { ($0.0, Double($0.1.result())) }, uniquingKeysWith: { a, _ in a })
        let named = namedLossTrackers.filter { $0.count > 0 }
        for tracker in named { logs[tracker.name] = Double(tracker.result()) }
        if !named.isEmpty && taskLossTracker.count > 0 && logs[taskLossName] == nil {
            logs[taskLossName] = Double(taskLossTracker.result())
        }
        var means: [String: (sum: Double, count: Double)] = [:]
        for m in loggedMeans { means[m.name] = m.count > 0 ? (m.sum, m.count) : nil }
        for layer in model.map(allLayers) ?? [] {
            for (name, value) in layer.trainingMetrics() {
                let old = means[name] ?? (0, 0)
                means[name] = (old.sum + value.sum, old.count + value.count)
            }
        }
        for (name, m) in means where m.count > 0 && logs[name] == nil { logs[name] = m.sum / m.count }
        return logs
    }

    /// Adds one batch's added losses, summed by name, and the task loss, each
    /// weighing `count` samples.
    func updateNamedLosses(_ sums: [(String, Tensor)], taskLoss: Tensor?, count: Int) throws {
        guard !sums.isEmpty else { return }
        let weight = Tensor(Float(count))
        for (name, value) in sums {
            let tracker: Mean
            if let known = namedLossTrackers.first(where: { $0.name == name }) {
                tracker = known
            } else {
                tracker = Mean(name: name)
                namedLossTrackers.append(tracker)
            }
            try tracker.update(value.detached, sampleWeight: weight)
        }
        if let taskLoss { try taskLossTracker.update(taskLoss.detached, sampleWeight: weight) }
    }

    /// Adds to a running mean logged by a custom loss function.
    func logMean(_ name: String, sum: Double, count: Double) {
        if let i = loggedMeans.firstIndex(where: { $0.name == name }) {
            loggedMeans[i].sum += sum
            loggedMeans[i].count += count
        } else {
            loggedMeans.append((name, sum, count))
        }
    }

    /// Which way each compiled metric improves, by its own name.
    var metricDirections: [String: Metric.Direction] {
        var out: [String: Metric.Direction] = [:]
        for m in (metrics + weightedMetrics).joined() { if let d = m.direction { out[m.name] = d } }
        return out
    }

    func resetMetrics() {
        for (_, m) in namedMetrics { m.reset() }
        for m in namedLossTrackers { m.reset() }
        taskLossTracker.reset()
        loggedMeans.removeAll()
        for layer in model.map(allLayers) ?? [] { layer.resetTrainingMetrics() }
    }
}

/// `layer` and every layer inside it, each once, in depth-first order.
func allLayers(_ layer: Layer) -> [Layer] {
    var seen = Set<ObjectIdentifier>(), out: [Layer] = []
    func visit(_ l: Layer) {
        guard seen.insert(ObjectIdentifier(l)).inserted else { return }
        out.append(l)
        for s in l.sublayers { visit(s) }
    }
    visit(layer)
    return out
}

// MARK: compile

extension Model {
    /// The state set by `compile`, or nil.
    public var trainingState: TrainingState? { compileState as? TrainingState }

    /// Whether `compile` has been called.
    public var isCompiled: Bool { trainingState != nil }

    /// The compiled optimizer.
    public var optimizer: Optimizer? { trainingState?.optimizer }

    /// Set to true (by a callback) to end `fit` after the current batch.
    public var stopTraining: Bool {
        get { trainingState?.stopTraining ?? false }
        set { trainingState?.stopTraining = newValue }
    }

    /// The History of the last `fit`.
    public var history: History? { trainingState?.history }

    /// The log names of the model's metrics (`loss`, then the compiled
    /// metrics), once a batch has been seen.
    public var metricsNames: [String] { trainingState.map { $0.namedMetrics.map { $0.0 } } ?? [] }

    /// Clears every metric's state.
    public func resetMetrics() { trainingState?.resetMetrics() }

    /// `model.get_compile_config()`, or nil before `compile`.
    public var compileConfig: JSONObject? { trainingState?.compileConfig }

    /// The names of the outputs: their layers' names, as Keras's `output_names`.
    var outputNames: [String] { outputs.map { $0.layer.name } }

    /// Resolves the compiled losses and metrics on the first batch.
    func buildTraining(_ state: TrainingState, yTrue: [Tensor], yPred: [Tensor]) throws {
        try state.build(yTrue: yTrue, yPred: yPred, outputNames: outputNames)
    }

    /// Configures the model for training with one loss for every output.
    ///
    /// ```swift
    /// try model.compile(optimizer: Adam(learningRate: 1e-3), loss: "sparse_categorical_crossentropy",
    ///                   metrics: ["accuracy"])
    /// ```
    /// - Parameters:
    ///   - optimizer: an ``Optimizer`` or a Keras name; Keras's default is `"rmsprop"`.
    ///   - loss: a ``Loss`` or a Keras name, applied to each output.
    ///   - lossWeights: one factor per output.
    ///   - metrics: metrics of the (single) output, unweighted.
    ///   - weightedMetrics: metrics that take the sample (and class) weights.
    public func compile(optimizer: OptimizerConvertible = "rmsprop", loss: LossConvertible?, lossWeights: [Float]? = nil,
                        metrics: [MetricConvertible] = [], weightedMetrics: [MetricConvertible] = []) throws {
        if outputs.count > 1 && !(metrics.isEmpty && weightedMetrics.isEmpty) {
            throw TrainingError.badConfig("model '\(name)' has \(outputs.count) outputs: give metrics per output with `compile(optimizer:losses:outputMetrics:)`")
        }
        func listConfig(_ list: [MetricConvertible]) -> JSONValue { list.isEmpty ? .null : .array(list.map { $0.compileConfigValue }) }
        try install(optimizer: optimizer, losses: [loss], sharedLoss: true, lossWeights: lossWeights,
                    metrics: [metrics], weightedMetrics: [weightedMetrics],
                    config: (loss?.compileConfigValue ?? .null, listConfig(metrics), listConfig(weightedMetrics)))
    }

    /// Configures a model with several outputs: one loss (or nil) and one list of
    /// metrics per output, in output order.
    public func compile(optimizer: OptimizerConvertible = "rmsprop", losses: [LossConvertible?], lossWeights: [Float]? = nil,
                        outputMetrics: [[MetricConvertible]] = [], outputWeightedMetrics: [[MetricConvertible]] = []) throws {
        func listsConfig(_ lists: [[MetricConvertible]]) -> JSONValue {
            lists.isEmpty ? .null : .array(lists.map { .array($0.map { $0.compileConfigValue }) })
        }
        try install(optimizer: optimizer, losses: losses, sharedLoss: false, lossWeights: lossWeights, metrics: outputMetrics,
                    weightedMetrics: outputWeightedMetrics,
                    config: (.array(losses.map { $0?.compileConfigValue ?? .null }), listsConfig(outputMetrics),
                             listsConfig(outputWeightedMetrics)))
    }

    private func install(optimizer: OptimizerConvertible, losses: [LossConvertible?], sharedLoss: Bool, lossWeights: [Float]?,
                         metrics: [[MetricConvertible]], weightedMetrics: [[MetricConvertible]],
                         config: (loss: JSONValue, metrics: JSONValue, weightedMetrics: JSONValue)) throws {
        // An unbuilt Sequential has no outputs yet; the first batch checks the counts.
        let n = outputs.count
        if n > 0 {
            let lossCount = sharedLoss ? n : losses.count
            guard lossCount == n else {
                throw TrainingError.badConfig("model '\(name)' has \(n) output(s) but \(losses.count) loss(es) were given")
            }
            if let lossWeights, lossWeights.count != n {
                throw TrainingError.badConfig("`loss_weights` must match the number of losses, got \(n) losses and \(lossWeights.count) weights")
            }
            for (label, lists) in [("metrics", metrics), ("weighted metrics", weightedMetrics)]
            where !lists.isEmpty && lists.count != n && !lists.allSatisfy({ $0.isEmpty }) {
                throw TrainingError.badConfig("model '\(name)' has \(n) output(s) but \(lists.count) lists of \(label) were given")
            }
        }
        let opt = try optimizer.makeOptimizer()
        let compileConfig: JSONObject = [
            "optimizer": opt.serialize(), "loss": config.loss,
            "loss_weights": lossWeights.map { .array($0.map { JSONValue($0) }) } ?? .null,
            "metrics": config.metrics, "weighted_metrics": config.weightedMetrics,
            "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false,
        ]
        let loaded = (compileState as? LoadedOptimizerState)?.optimizerState
        let state = TrainingState(optimizer: opt, losses: losses, sharedLoss: sharedLoss, lossWeights: lossWeights,
                                  metrics: metrics, weightedMetrics: weightedMetrics, compileConfig: compileConfig)
        state.model = self
        compileState = state
        // Optimizer state read from a file continues here (Keras's load_model).
        if let loaded { try state.restoreLoaded(loaded, model: self) }
    }

    /// Compiles from a saved training config: Keras 3's `compile_config`
    /// (`optimizer`, `loss`, `metrics`, …) or Keras 2's `training_config`
    /// (`optimizer_config`, `loss`, `metrics`, …). Losses and metrics may be
    /// names or serialized objects; per-output ones may be lists or dicts keyed
    /// by output name.
    public func compile(config: JSONObject) throws {
        guard let optimizerJSON = config["optimizer"] ?? config["optimizer_config"], !optimizerJSON.isNull else {
            throw TrainingError.badConfig("training config has no optimizer")
        }
        let optimizer = try Optimizers.deserialize(optimizerJSON)
        let names = outputNames
        /// A per-output list from a list, or from a dict keyed by output name.
        func perOutput(_ json: JSONValue?) -> [JSONValue]? {
            guard let json, !json.isNull else { return nil }
            if let a = json.arrayValue { return a }
            if let o = json.objectValue, o["class_name"] == nil { return names.map { o[$0] ?? .null } }
            return nil
        }
        func loss(_ json: JSONValue) throws -> LossConvertible? {
            if json.isNull { return nil }
            return try json.stringValue ?? Losses.deserialize(json)
        }
        func metrics(_ json: JSONValue) throws -> [MetricConvertible] {
            if json.isNull { return [] }
            if let a = json.arrayValue { return try a.flatMap { try metrics($0) } }
            return [try json.stringValue ?? Metrics.deserialize(json)]
        }
        let lossWeights = try perOutput(config["loss_weights"]).map { list in
            try list.map { w -> Float in
                guard let d = w.doubleValue else { throw TrainingError.badConfig("training config: loss weight \(w.serialized()) is not a number") }
                return Float(d)
            }
        }
        let lossJSON = config["loss"] ?? .null
        if outputs.count <= 1 {
            let single = perOutput(lossJSON)?.first ?? lossJSON
            try compile(optimizer: optimizer, loss: try loss(single), lossWeights: lossWeights,
                        metrics: try metrics(config["metrics"] ?? .null), weightedMetrics: try metrics(config["weighted_metrics"] ?? .null))
        } else {
            let losses = try (perOutput(lossJSON) ?? [JSONValue](repeating: lossJSON, count: names.count)).map(loss)
            try compile(optimizer: optimizer, losses: losses, lossWeights: lossWeights,
                        outputMetrics: try (perOutput(config["metrics"]) ?? []).map(metrics),
                        outputWeightedMetrics: try (perOutput(config["weighted_metrics"]) ?? []).map(metrics))
        }
    }
}
