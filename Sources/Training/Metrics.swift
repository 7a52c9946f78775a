import Layers
import Tensor

/// A stateful metric (`keras.metrics.Metric`): ``update(yTrue:yPred:sampleWeight:)``
/// accumulates batches, ``result()`` reads the value, ``reset()`` starts over.
/// State is kept in `float32`, as Keras keeps it in variables.
open class Metric {
    /// Whether larger or smaller values are better, for callbacks in `auto` mode.
    public enum Direction: Sendable { case up, down }

    /// The Keras class name written to configs.
    open class var className: String { String(describing: self) }

    /// The name reported in logs (`accuracy`, `val_accuracy`, …).
    public var name: String
    /// Which way is better, or nil when unknown.
    open var direction: Direction? { nil }

    public init(name: String) { self.name = name }

    /// Accumulates one batch of targets and predictions.
    open func update(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor? = nil) throws {
        throw TrainingError.unsupported("metric '\(name)' (\(Self.className)) does not take targets and predictions")
    }

    /// Accumulates a batch whose predictions carry a mask (Keras's
    /// `_keras_mask` on `y_pred`). Only mean metrics of a function use it, as
    /// in Keras; others ignore it.
    open func update(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor?, mask: Tensor?) throws {
        try update(yTrue: yTrue, yPred: yPred, sampleWeight: sampleWeight)
    }

    /// The current value.
    open func result() -> Float { fatalError("\(Self.className) must override result()") }

    /// Clears the accumulated state.
    open func reset() { fatalError("\(Self.className) must override reset()") }

    /// The Keras config.
    open func getConfig() -> JSONObject { ["name": .string(name), "dtype": "float32"] }

    /// The class name this metric serializes as (``className`` unless a wrapper says otherwise).
    open var kerasClassName: String { Self.className }

    /// `keras.metrics.serialize`.
    public func serialize() -> JSONValue {
        ObjectConfig.serialized(module: "keras.metrics", className: kerasClassName, config: getConfig())
    }
}

/// The (weighted) mean of the values it is given (`keras.metrics.Mean`).
open class Mean: Metric {
    public private(set) var total: Float = 0
    public private(set) var count: Float = 0

    public override init(name: String = "mean") { super.init(name: name) }

    /// Adds values (any shape, first axis = samples), each sample weighing
    /// its `sampleWeight` (default 1). Samples with several values count their mean.
    public func update(_ values: Tensor, sampleWeight: Tensor? = nil) throws {
        try withoutGradient {
            var values = values.detached
            var weight = sampleWeight?.detached
            if let w = weight {
                (values, weight) = try squeezeOrExpand(values, w)
                let weightRank = weight!.rank
                if values.rank > weightRank { values = try values.mean(axes: Array(weightRank..<values.rank)) }
                weight = try weight!.broadcast(to: values.shape)
                values = try values * weight!
                if weightRank > 1 { weight = try weight!.mean(axes: Array(1..<weightRank)) }
            }
            if values.rank > 1 { values = try values.mean(axes: Array(1..<values.rank)) }
            total += values.scalars.reduce(0, +)
            if let weight { count += weight.scalars.reduce(0, +) } else { count += Float(values.rank >= 1 ? values.shape[0] : 1) }
        }
    }

    public override func result() -> Float { count == 0 ? 0 : total / count }

    public override func reset() {
        total = 0
        count = 0
    }
}

/// The mean of a per-sample function of targets and predictions
/// (`keras.metrics.MeanMetricWrapper`).
open class MeanMetricWrapper: Mean {
    private let function: (Tensor, Tensor) throws -> Tensor
    private let better: Direction?

    public init(name: String, direction: Direction? = nil, _ function: @escaping (_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor) {
        self.function = function
        self.better = direction
        super.init(name: name)
    }

    open override var direction: Direction? { better }

    open override func update(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor? = nil) throws {
        let values = try withoutGradient { try function(yTrue.detached, yPred.detached) }
        try update(values, sampleWeight: sampleWeight)
    }

    /// Masked entries get weight 0, so the mean is over the unmasked ones.
    open override func update(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor?, mask: Tensor?) throws {
        try update(yTrue: yTrue, yPred: yPred, sampleWeight: try applyMask(sampleWeight, mask, reduction: .sum))
    }
}

// MARK: Accuracy family

/// How often predictions equal targets exactly.
public final class Accuracy: MeanMetricWrapper {
    public init(name: String = "accuracy") {
        super.init(name: name, direction: .up) { t, p in
            let (a, b) = try squeezeOrExpand(t, p)
            return try Tensor.equal(a, b)
        }
    }
}

/// How often `prediction > threshold` equals the 0/1 target.
public final class BinaryAccuracy: MeanMetricWrapper {
    public let threshold: Double

    public init(name: String = "binary_accuracy", threshold: Double = 0.5) {
        self.threshold = threshold
        let th = Float(threshold)
        super.init(name: name, direction: .up) { t, p in
            let (a, b) = try squeezeOrExpand(t, p)
            return try Tensor.equal(a, try Tensor.greater(b, Tensor(th)))
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["threshold"] = .double(threshold)
        return c
    }
}

/// How often the arg-max of the prediction is the arg-max of the one-hot target.
public final class CategoricalAccuracy: MeanMetricWrapper {
    public init(name: String = "categorical_accuracy") {
        super.init(name: name, direction: .up) { t, p in
            var labels = try t.argmax(axis: -1)
            let shape = labels.shape
            let reshape = labels.rank == p.rank
            if reshape { labels = try labels.squeezed(axes: [-1]) }
            let matches = try Tensor.equal(labels, try p.argmax(axis: -1))
            return reshape ? try matches.reshaped(to: shape) : matches
        }
    }
}

/// How often the arg-max of the prediction is the integer target.
public final class SparseCategoricalAccuracy: MeanMetricWrapper {
    public init(name: String = "sparse_categorical_accuracy") {
        super.init(name: name, direction: .up) { t, p in
            var labels = t
            let shape = labels.shape
            let reshape = labels.rank == p.rank && labels.shape.last == 1
            if reshape { labels = try labels.squeezed(axes: [-1]) }
            var matches = try Tensor.equal(labels, try p.argmax(axis: -1))
            if reshape { matches = try matches.reshaped(to: shape) }
            if matches.rank > 1, matches.shape.last == 1 { matches = try matches.squeezed(axes: [-1]) }
            return matches
        }
    }
}

/// `tf.math.in_top_k`: whether fewer than `k` classes score strictly higher
/// than the target class; false for an out-of-range target or a non-finite score.
func inTopK(labels: [Int], predictions p: Tensor, k: Int) -> [Float] {
    let classes = p.shape.last ?? 0
    return labels.enumerated().map { row, label in
        guard label >= 0, label < classes else { return 0 }
        let scores = p.scalars[(row * classes)..<((row + 1) * classes)]
        let target = scores[scores.startIndex + label]
        guard target.isFinite else { return 0 }
        return scores.filter { $0 > target }.count < k ? 1 : 0
    }
}

/// Top-k accuracy values for integer labels of any shape against `[…, classes]` scores.
private func topKValues(labels: Tensor, predictions: Tensor, k: Int) throws -> Tensor {
    let classes = predictions.shape.last ?? 0
    let flat = try predictions.reshaped(to: [-1, classes])
    guard flat.shape[0] == labels.count else {
        throw TrainingError.invalidData("top-k accuracy: \(labels.count) labels for \(flat.shape[0]) predictions")
    }
    let hits = inTopK(labels: labels.scalars.map { Int($0) }, predictions: flat, k: k)
    return Tensor(shape: labels.rank > 1 ? labels.shape : [labels.count], scalars: hits)
}

/// How often the one-hot target is among the `k` highest predictions.
public final class TopKCategoricalAccuracy: MeanMetricWrapper {
    public let k: Int

    public init(k: Int = 5, name: String = "top_k_categorical_accuracy") {
        self.k = k
        super.init(name: name, direction: .up) { t, p in try topKValues(labels: try t.argmax(axis: -1), predictions: p, k: k) }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["k"] = .int(k)
        return c
    }
}

/// How often the integer target is among the `k` highest predictions.
public final class SparseTopKCategoricalAccuracy: MeanMetricWrapper {
    public let k: Int

    public init(k: Int = 5, name: String = "sparse_top_k_categorical_accuracy") {
        self.k = k
        super.init(name: name, direction: .up) { t, p in try topKValues(labels: t, predictions: p, k: k) }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["k"] = .int(k)
        return c
    }
}

// MARK: Metrics from losses

/// The mean of a loss's per-sample values, as `keras.metrics.MeanSquaredError`,
/// `BinaryCrossentropy`, … (smaller is better).
public final class LossMetric: MeanMetricWrapper {
    /// The loss whose per-sample values are averaged.
    public let loss: Loss
    private let lossClassName: String
    private let extraConfig: JSONObject

    /// - Parameters:
    ///   - className: the Keras metric class (by default the loss's; they share names).
    ///   - config: the metric's own config keys, written after `name` and `dtype`.
    public init(_ loss: Loss, name: String? = nil, className: String? = nil, config: JSONObject = [:]) {
        self.loss = loss
        self.lossClassName = className ?? type(of: loss).className
        self.extraConfig = config
        super.init(name: name ?? loss.name, direction: .down) { t, p in try loss.call(t, p) }
    }

    public override var kerasClassName: String { lossClassName }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        for (k, v) in extraConfig { c[k] = v }
        return c
    }
}

// MARK: Registry

/// Metrics by Keras name, as `keras.metrics.get` and `deserialize`.
public enum Metrics {
    /// A metric from a class or function name (`"AUC"`, `"mse"`,
    /// `"sparse_top_k_categorical_accuracy"`), with its Keras default name.
    /// `"accuracy"` here is exact-match accuracy; `compile` resolves it by the
    /// shapes of targets and predictions instead, and names metrics as given.
    public static func get(_ name: String) throws -> Metric {
        try deserialize(.string(name))
    }

    /// A metric from its serialized form.
    public static func deserialize(_ json: JSONValue) throws -> Metric {
        let (className, values) = try ObjectConfig.classAndConfig(json, kind: "metric")
        let c = ObjectConfig(values, owner: "metric '\(className)'")
        func name(_ d: String) throws -> String { try c.string("name", default: d) }
        c.ignore("dtype")
        let metric: Metric
        switch className {
        case "Accuracy", "accuracy", "acc":
            metric = Accuracy(name: try name("accuracy"))
        case "BinaryAccuracy", "binary_accuracy":
            metric = BinaryAccuracy(name: try name("binary_accuracy"), threshold: try c.double("threshold", default: 0.5))
        case "CategoricalAccuracy", "categorical_accuracy":
            metric = CategoricalAccuracy(name: try name("categorical_accuracy"))
        case "SparseCategoricalAccuracy", "sparse_categorical_accuracy":
            metric = SparseCategoricalAccuracy(name: try name("sparse_categorical_accuracy"))
        case "TopKCategoricalAccuracy", "top_k_categorical_accuracy":
            metric = TopKCategoricalAccuracy(k: try c.int("k", default: 5), name: try name("top_k_categorical_accuracy"))
        case "SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy":
            if try c.bool("from_sorted_ids", default: false) {
                throw TrainingError.unsupported("\(c.owner): from_sorted_ids")
            }
            metric = SparseTopKCategoricalAccuracy(k: try c.int("k", default: 5), name: try name("sparse_top_k_categorical_accuracy"))
        case "AUC", "auc":
            metric = try AUC(config: c)
        case "MeanMetricWrapper":
            // tf-keras: a metric function wrapped under its own name.
            guard let fn = c.value("fn"), let fnName = fn.stringValue ?? fn["config"]?.stringValue ?? fn["config"]?["name"]?.stringValue else {
                throw TrainingError.badConfig("\(c.owner): needs 'fn'")
            }
            metric = try get(fnName)
            metric.name = try name(fnName)
        case "Mean", "mean":
            metric = Mean(name: try name("mean"))
        case "MeanSquaredError", "mean_squared_error", "mse", "MSE":
            metric = LossMetric(MeanSquaredError(), name: try name("mean_squared_error"), className: "MeanSquaredError")
        case "MeanAbsoluteError", "mean_absolute_error", "mae", "MAE":
            metric = LossMetric(MeanAbsoluteError(), name: try name("mean_absolute_error"), className: "MeanAbsoluteError")
        case "KLDivergence", "kl_divergence":
            metric = LossMetric(KLDivergence(), name: try name("kl_divergence"), className: "KLDivergence")
        case "BinaryCrossentropy", "binary_crossentropy", "bce", "BCE":
            let fromLogits = try c.bool("from_logits", default: false), smoothing = try c.double("label_smoothing", default: 0)
            metric = LossMetric(BinaryCrossentropy(fromLogits: fromLogits, labelSmoothing: smoothing), name: try name("binary_crossentropy"),
                                className: "BinaryCrossentropy",
                                config: ["from_logits": .bool(fromLogits), "label_smoothing": .double(smoothing)])
        case "CategoricalCrossentropy", "categorical_crossentropy":
            let fromLogits = try c.bool("from_logits", default: false), smoothing = try c.double("label_smoothing", default: 0)
            let axis = try c.int("axis", default: -1)
            metric = LossMetric(CategoricalCrossentropy(fromLogits: fromLogits, labelSmoothing: smoothing, axis: axis),
                                name: try name("categorical_crossentropy"), className: "CategoricalCrossentropy",
                                config: ["from_logits": .bool(fromLogits), "label_smoothing": .double(smoothing), "axis": .int(axis)])
        case "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy":
            let fromLogits = try c.bool("from_logits", default: false), ignoreClass = try c.optionalInt("ignore_class")
            guard try c.int("axis", default: -1) == -1 else { throw TrainingError.unsupported("\(c.owner): axis other than -1") }
            metric = LossMetric(SparseCategoricalCrossentropy(fromLogits: fromLogits, ignoreClass: ignoreClass),
                                name: try name("sparse_categorical_crossentropy"), className: "SparseCategoricalCrossentropy",
                                config: ["from_logits": .bool(fromLogits), "ignore_class": ignoreClass.map { .int($0) } ?? .null, "axis": -1])
        default:
            throw TrainingError.unsupported("metric '\(className)'")
        }
        try c.finish()
        return metric
    }
}
