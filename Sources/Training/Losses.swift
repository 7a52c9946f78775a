import Foundation
import Layers
import Tensor

/// The base of every loss (`keras.losses.Loss`): ``call(_:_:)`` gives
/// per-sample values; calling the loss weights and reduces them.
///
/// ```swift
/// let loss = SparseCategoricalCrossentropy(fromLogits: true)
/// let value = try loss(labels, logits)            // a scalar tensor
/// ```
open class Loss {
    /// The Keras class name written to configs.
    open class var className: String { String(describing: self) }
    /// The Keras default name (`"mean_squared_error"`, …).
    open class var defaultName: String { NameScope.snakeCase(className) }

    public var name: String
    public var reduction: LossReduction

    public init(name: String? = nil, reduction: LossReduction = .sumOverBatchSize) {
        self.name = name ?? Self.defaultName
        self.reduction = reduction
    }

    /// Reads `name` and `reduction`. Subclasses read their own keys first.
    public required init(config c: ObjectConfig) throws {
        name = try c.string("name", default: Self.defaultName)
        reduction = try LossReduction(keras: c.value("reduction").map { $0.stringValue } ?? "sum_over_batch_size",
                                      owner: c.owner)
        c.ignore("dtype", "fn")
    }

    /// The unreduced loss of each sample (and of each position, for sequences).
    open func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        fatalError("\(Self.className) must override call(_:_:)")
    }

    /// The per-sample values and a 0/1 mask of the entries that count
    /// (`ignore_class`); nil when all count.
    open func maskedCall(_ yTrue: Tensor, _ yPred: Tensor) throws -> (Tensor, mask: Tensor?) {
        (try call(yTrue, yPred), nil)
    }

    /// The loss of a batch: per-sample values, weighted by `sampleWeight`, reduced.
    /// `mask` is the predictions' mask (Keras's `_keras_mask` on `y_pred`):
    /// masked entries weigh nothing, and a mean is over the unmasked ones.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor? = nil,
                               mask predictionMask: Tensor? = nil) throws -> Tensor {
        let (values, valuesMask) = try maskedCall(yTrue.detached, yPred)
        let mask = try predictionMask.map { m in try valuesMask.map { try m * $0 } ?? m } ?? valuesMask
        return try reduceWeightedValues(values, sampleWeight: sampleWeight, mask: mask, reduction: reduction)
    }

    /// The Keras config.
    open func getConfig() -> JSONObject {
        ["name": .string(name), "reduction": reduction == .none ? "none" : .string(reduction.rawValue)]
    }

    /// `keras.losses.serialize`.
    public func serialize() -> JSONValue {
        ObjectConfig.serialized(module: "keras.losses", className: Self.className, config: getConfig())
    }
}

/// `mean((y − ŷ)²)` over the last axis.
public final class MeanSquaredError: Loss {
    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t, p) = try squeezeOrExpand(yTrue, yPred)
        return try (try t - p).square().mean(axes: [-1])
    }
}

/// `mean(|y − ŷ|)` over the last axis.
public final class MeanAbsoluteError: Loss {
    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t, p) = try squeezeOrExpand(yTrue, yPred)
        return try (try t - p).abs().mean(axes: [-1])
    }
}

/// Quadratic within `delta` of the target, linear beyond, averaged over the last axis.
/// Its config keeps `delta`, which Keras 3's `get_config` drops (Keras reads it back).
public final class Huber: Loss {
    public override class var defaultName: String { "huber_loss" }
    public let delta: Double

    public init(delta: Double = 1, name: String? = nil, reduction: LossReduction = .sumOverBatchSize) {
        self.delta = delta
        super.init(name: name, reduction: reduction)
    }

    public required init(config c: ObjectConfig) throws {
        delta = try c.double("delta", default: 1)
        try super.init(config: c)
    }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t, p) = try squeezeOrExpand(yTrue, yPred)
        let d = Float(delta)
        let error = try p - t
        let absError = error.abs()
        let inside = Tensor(shape: absError.shape, scalars: absError.scalars.map { $0 <= d ? 1 : 0 })
        let quadratic = error.square() * 0.5
        let linear = absError * d - 0.5 * (d * d)
        return try Tensor.where(inside, quadratic, linear).mean(axes: [-1])
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["delta"] = .double(delta)
        return c
    }
}

/// `Σ y·log(y / ŷ)` over the last axis, both clipped to `[ε, 1]`.
public final class KLDivergence: Loss {
    public override class var defaultName: String { "kl_divergence" }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t0, p0) = try squeezeOrExpand(yTrue, yPred)
        let t = t0.clip(kerasEpsilon, 1), p = p0.clip(kerasEpsilon, 1)
        return try (try t * (try t / p).log()).sum(axes: [-1])
    }
}

/// The negative cosine similarity of L2-normalized `y` and `ŷ` along `axis`.
/// Its config keeps `axis`, which Keras 3's `get_config` drops (Keras reads it back).
public final class CosineSimilarity: Loss {
    public let axis: Int

    public init(axis: Int = -1, name: String? = nil, reduction: LossReduction = .sumOverBatchSize) {
        self.axis = axis
        super.init(name: name, reduction: reduction)
    }

    public required init(config c: ObjectConfig) throws {
        axis = try c.int("axis", default: -1)
        try super.init(config: c)
    }

    /// `x · min(rsqrt(Σx²), 1/ε)` along `axis` (`keras.ops.normalize`).
    static func normalize(_ x: Tensor, axis: Int) throws -> Tensor {
        let inverseNorm = try x.square().sum(axes: [axis], keepDims: true).rsqrt()
        return try x * (try Tensor.minimum(inverseNorm, Tensor(Float(1.0 / 1e-7))))
    }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t, p) = try squeezeOrExpand(yTrue, yPred)
        return -(try (try CosineSimilarity.normalize(t, axis: axis) * CosineSimilarity.normalize(p, axis: axis)).sum(axes: [axis]))
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = .int(axis)
        return c
    }
}

/// The options binary and categorical crossentropy share: `from_logits`,
/// `label_smoothing` and `axis`.
public class SmoothedCrossentropy: Loss {
    public let fromLogits: Bool
    public let labelSmoothing: Double
    public let axis: Int

    public init(fromLogits: Bool = false, labelSmoothing: Double = 0, axis: Int = -1, name: String? = nil,
                reduction: LossReduction = .sumOverBatchSize) {
        self.fromLogits = fromLogits
        self.labelSmoothing = labelSmoothing
        self.axis = axis
        super.init(name: name, reduction: reduction)
    }

    public required init(config c: ObjectConfig) throws {
        fromLogits = try c.bool("from_logits", default: false)
        labelSmoothing = try c.double("label_smoothing", default: 0)
        axis = try c.int("axis", default: -1)
        try super.init(config: c)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["from_logits"] = .bool(fromLogits)
        c["label_smoothing"] = .double(labelSmoothing)
        c["axis"] = .int(axis)
        return c
    }
}

/// Binary crossentropy, averaged over `axis`, from probabilities (clipped to
/// `[ε, 1 − ε]`) or logits, with optional label smoothing towards ½.
public final class BinaryCrossentropy: SmoothedCrossentropy {

    /// Elementwise binary crossentropy (`keras.ops.binary_crossentropy`).
    static func elementwise(_ target: Tensor, _ output: Tensor, fromLogits: Bool) throws -> Tensor {
        guard target.shape == output.shape else {
            throw TrainingError.invalidData("binary_crossentropy: targets of shape \(target.shape) and outputs of shape \(output.shape) differ")
        }
        if fromLogits {
            // tf.nn.sigmoid_cross_entropy_with_logits, written as TensorFlow does.
            let positive = output.nonNegativeMask
            let zeros = Tensor.zeros(output.shape)
            let reluLogits = try Tensor.where(positive, output, zeros)
            let negAbsLogits = try Tensor.where(positive, -output, output)
            return try (try reluLogits - (try output * target)) + (try negAbsLogits.exp().add1Log())
        }
        let p = output.clip(kerasEpsilon, oneMinusEpsilon)
        let bce = try (try target * p.log()) + (try (1 - target) * (1 - p).log())
        return -bce
    }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t0, p) = try squeezeOrExpand(yTrue, yPred)
        var t = t0
        if labelSmoothing != 0 { t = t * Float(1 - labelSmoothing) + Float(0.5 * labelSmoothing) }
        let (output, logits) = kerasLogits(p, fromLogits: fromLogits)
        return try BinaryCrossentropy.elementwise(t, output, fromLogits: logits).mean(axes: [axis])
    }
}

/// Categorical crossentropy over `axis` against one-hot (or soft) targets, from
/// probabilities (renormalized, clipped to `[ε, 1 − ε]`) or logits.
public final class CategoricalCrossentropy: SmoothedCrossentropy {

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let (t0, p) = try squeezeOrExpand(yTrue, yPred)
        guard t0.shape == p.shape else {
            throw TrainingError.invalidData("categorical_crossentropy: targets of shape \(t0.shape) and predictions of shape \(p.shape) differ; "
                                            + "integer labels need sparse_categorical_crossentropy")
        }
        var t = t0
        if labelSmoothing != 0 {
            let classes = Float(t.shape[t.rank - 1])
            t = t * Float(1 - labelSmoothing) + Float(labelSmoothing) / classes
        }
        let (output, logits) = kerasLogits(p, fromLogits: fromLogits)
        if logits { return try softmaxCrossEntropy(labels: t, logits: output, axis: axis) }
        let normalized = try p / (try p.sum(axes: [axis], keepDims: true))
        let clipped = normalized.clip(kerasEpsilon, oneMinusEpsilon)
        return -(try (try t * clipped.log()).sum(axes: [axis]))
    }
}

/// Categorical crossentropy against integer class labels over the last axis,
/// from probabilities (clipped to `[ε, 1 − ε]`) or logits. Labels equal to
/// `ignoreClass` do not count.
public final class SparseCategoricalCrossentropy: Loss {
    public let fromLogits: Bool
    public let ignoreClass: Int?

    public init(fromLogits: Bool = false, ignoreClass: Int? = nil, name: String? = nil,
                reduction: LossReduction = .sumOverBatchSize) {
        self.fromLogits = fromLogits
        self.ignoreClass = ignoreClass
        super.init(name: name, reduction: reduction)
    }

    public required init(config c: ObjectConfig) throws {
        fromLogits = try c.bool("from_logits", default: false)
        ignoreClass = try c.optionalInt("ignore_class")
        let axis = try c.int("axis", default: -1)
        guard axis == -1 else { throw TrainingError.unsupported("\(c.owner): axis \(axis) (Keras supports only -1)") }
        try super.init(config: c)
    }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try maskedCall(yTrue, yPred).0
    }

    public override func maskedCall(_ yTrue: Tensor, _ yPred: Tensor) throws -> (Tensor, mask: Tensor?) {
        var (labels, p) = try squeezeOrExpand(yTrue, yPred)
        if labels.rank == p.rank, labels.shape.last == 1 { labels = try labels.squeezed(axes: [-1]) }
        var valid: Tensor?
        if let ignoreClass {
            let mask = Tensor(shape: labels.shape, scalars: labels.scalars.map { $0 != Float(ignoreClass) ? 1 : 0 })
            labels = try labels * mask
            p = try p * (try mask.expandingDims(at: -1))
            valid = mask
        }
        let (output, fromLogits) = kerasLogits(p, fromLogits: fromLogits)
        let logits = fromLogits ? output : output.clip(kerasEpsilon, oneMinusEpsilon).log()
        var result = try sparseSoftmaxCrossEntropy(labels: labels, logits: logits)
        if let valid { result = try result * valid }
        return (result, valid)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["from_logits"] = .bool(fromLogits)
        c["ignore_class"] = ignoreClass.map { .int($0) } ?? .null
        return c
    }
}

// MARK: Fused crossentropies with TensorFlow's gradients

/// `tf.nn.softmax_cross_entropy_with_logits`: `Σ −t·log softmax(z)` over
/// `axis`, with the gradient `softmax(z) − t` that TensorFlow's kernel returns.
func softmaxCrossEntropy(labels: Tensor, logits: Tensor, axis: Int) throws -> Tensor {
    let t = labels.detached
    return try Tensor.customGradient("softmax_cross_entropy", inputs: [logits], forward: { x in
        -(try (try t * x[0].logSoftmax(axis: axis)).sum(axes: [axis]))
    }, backward: { g in
        let z = logits.detached
        return [try (try z.softmax(axis: axis) - t) * g.expandingDims(at: axis < 0 ? axis + z.rank : axis)]
    })
}

/// `tf.nn.sparse_softmax_cross_entropy_with_logits` over the last axis, with
/// the gradient `softmax(z) − onehot(label)`.
func sparseSoftmaxCrossEntropy(labels: Tensor, logits: Tensor) throws -> Tensor {
    let classes = logits.shape.last ?? 0
    guard labels.shape == Array(logits.shape.dropLast()) else {
        throw TrainingError.invalidData("sparse_categorical_crossentropy: labels of shape \(labels.shape) do not match predictions of shape \(logits.shape)")
    }
    var onehot = [Float](repeating: 0, count: logits.count)
    for (row, label) in labels.scalars.enumerated() {
        guard label.isFinite, label >= 0, Int(label) < classes else {
            throw TrainingError.invalidData("sparse_categorical_crossentropy: label \(label) is outside the valid range [0, \(classes))")
        }
        onehot[row * classes + Int(label)] = 1
    }
    let t = Tensor(shape: logits.shape, scalars: onehot)
    return try Tensor.customGradient("sparse_softmax_cross_entropy", inputs: [logits], forward: { x in
        -(try (try t * x[0].logSoftmax(axis: -1)).sum(axes: [-1]))
    }, backward: { g in
        [try (try logits.detached.softmax(axis: -1) - t) * g.expandingDims(at: -1)]
    })
}

extension Tensor {
    /// `log(1 + x)` through `log1p` (TensorFlow's `log1p`), for `x ≥ 0`.
    func add1Log() throws -> Tensor {
        let x = detached
        let y = Tensor(shape: shape, scalars: scalars.map { Foundation.log1p($0) })
        return try Tensor.customGradient("log1p", inputs: [self], forward: { _ in y }, backward: { g in
            [try g / (x + 1)]
        })
    }
}

// MARK: Registry

/// Losses by Keras name, as `keras.losses.get` and `deserialize`.
public enum Losses {
    /// A loss from a class or function name (`"mse"`, `"categorical_crossentropy"`,
    /// `"Huber"`). Function names give the default arguments and name the loss
    /// as written, like Keras's `LossFunctionWrapper`.
    public static func get(_ name: String) throws -> Loss {
        try deserialize(.string(name))
    }

    /// A loss from its serialized form.
    public static func deserialize(_ json: JSONValue) throws -> Loss {
        let (className, values) = try ObjectConfig.classAndConfig(json, kind: "loss")
        let type: Loss.Type
        switch className {
        case "MeanSquaredError", "mean_squared_error", "mse", "MSE": type = MeanSquaredError.self
        case "MeanAbsoluteError", "mean_absolute_error", "mae", "MAE": type = MeanAbsoluteError.self
        case "Huber", "huber", "huber_loss": type = Huber.self
        case "KLDivergence", "kl_divergence", "kld", "KLD", "kullback_leibler_divergence": type = KLDivergence.self
        case "CosineSimilarity", "cosine_similarity": type = CosineSimilarity.self
        case "BinaryCrossentropy", "binary_crossentropy", "bce", "BCE": type = BinaryCrossentropy.self
        case "CategoricalCrossentropy", "categorical_crossentropy": type = CategoricalCrossentropy.self
        case "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy": type = SparseCategoricalCrossentropy.self
        default: throw TrainingError.unsupported("loss '\(className)'")
        }
        var config = values
        if json.stringValue != nil, className.first?.isLowercase == true { config["name"] = .string(className) }
        let c = ObjectConfig(config, owner: "loss '\(className)'")
        let loss = try type.init(config: c)
        try c.finish()
        return loss
    }
}
