import Foundation
import Layers

/// A learning rate as a function of the optimizer step
/// (`keras.optimizers.schedules.LearningRateSchedule`). Values are computed in
/// `float32` with the operations of Keras's TensorFlow backend.
public protocol LearningRateSchedule: AnyObject {
    /// The Keras class name written to configs.
    static var className: String { get }
    /// The learning rate at `step` (the optimizer's `iterations` before the update).
    func callAsFunction(_ step: Int) -> Float
    /// The Keras config, snake_case keys.
    func getConfig() -> JSONObject
}

extension LearningRateSchedule {
    /// `keras.optimizers.schedules.serialize`.
    public func serialize() -> JSONValue {
        ObjectConfig.serialized(module: "keras.optimizers.schedules", className: Self.className, config: getConfig())
    }
}

/// `float32(math.pi)`: `Float.pi` rounds toward zero, TensorFlow to nearest.
private let pi32 = Float(Double.pi)

/// `initial · rate^(step / decaySteps)`, the exponent floored when `staircase`.
public final class ExponentialDecay: LearningRateSchedule {
    public static let className = "ExponentialDecay"
    public let initialLearningRate: Double
    public let decaySteps: Double
    public let decayRate: Double
    public let staircase: Bool
    public let name: String

    public init(initialLearningRate: Double, decaySteps: Double, decayRate: Double, staircase: Bool = false,
                name: String = "ExponentialDecay") throws {
        guard decaySteps > 0 else { throw TrainingError.invalidArgument("ExponentialDecay: decaySteps must be > 0, got \(decaySteps)") }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
        self.name = name
    }

    convenience init(config c: ObjectConfig) throws {
        let steps = try c.double("decay_steps")
        guard steps > 0 else { throw TrainingError.badConfig("\(c.owner): decay_steps must be > 0") }
        try self.init(initialLearningRate: c.double("initial_learning_rate"), decaySteps: steps,
                  decayRate: try c.double("decay_rate"), staircase: try c.bool("staircase", default: false),
                  name: try c.string("name", default: "ExponentialDecay"))
    }

    public func callAsFunction(_ step: Int) -> Float {
        var p = Float(step) / Float(decaySteps)
        if staircase { p = p.rounded(.down) }
        return Float(initialLearningRate) * Foundation.pow(Float(decayRate), p)
    }

    public func getConfig() -> JSONObject {
        ["initial_learning_rate": .double(initialLearningRate), "decay_steps": JSONValue(number: decaySteps),
         "decay_rate": .double(decayRate), "staircase": .bool(staircase), "name": .string(name)]
    }
}

/// `values[i]` for `boundaries[i-1] < step ≤ boundaries[i]`.
public final class PiecewiseConstantDecay: LearningRateSchedule {
    public static let className = "PiecewiseConstantDecay"
    public let boundaries: [Double]
    public let values: [Double]
    public let name: String

    public init(boundaries: [Double], values: [Double], name: String = "PiecewiseConstant") throws {
        guard boundaries.count == values.count - 1 else {
            throw TrainingError.invalidArgument("PiecewiseConstantDecay: values needs one more entry than boundaries, got \(values.count) values for \(boundaries.count) boundaries")
        }
        self.boundaries = boundaries
        self.values = values
        self.name = name
    }

    convenience init(config c: ObjectConfig) throws {
        let b = try c.doubles("boundaries"), v = try c.doubles("values")
        guard b.count == v.count - 1 else {
            throw TrainingError.badConfig("\(c.owner): \(b.count) boundaries need \(b.count + 1) values, got \(v.count)")
        }
        try self.init(boundaries: b, values: v, name: c.string("name", default: "PiecewiseConstant"))
    }

    public func callAsFunction(_ step: Int) -> Float {
        // Keras casts the boundaries to the step's integer type (truncation).
        let bounds = boundaries.map { Int($0) }
        if step <= bounds[0] { return Float(values[0]) }
        for i in 1..<bounds.count where step > bounds[i - 1] && step <= bounds[i] { return Float(values[i]) }
        return Float(values[values.count - 1])
    }

    public func getConfig() -> JSONObject {
        ["boundaries": .array(boundaries.map { JSONValue(number: $0) }), "values": .array(values.map { .double($0) }),
         "name": .string(name)]
    }
}

/// Cosine decay from the initial rate (or, after a linear warmup, from
/// `warmupTarget`) to `alpha` times it over `decaySteps`.
public final class CosineDecay: LearningRateSchedule {
    public static let className = "CosineDecay"
    public let initialLearningRate: Double
    public let decaySteps: Double
    public let alpha: Double
    public let warmupTarget: Double?
    public let warmupSteps: Double
    public let name: String

    public init(initialLearningRate: Double, decaySteps: Double, alpha: Double = 0, warmupTarget: Double? = nil,
                warmupSteps: Double = 0, name: String = "CosineDecay") throws {
        guard decaySteps > 0 else { throw TrainingError.invalidArgument("CosineDecay: decaySteps must be > 0, got \(decaySteps)") }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
        self.warmupTarget = warmupTarget
        self.warmupSteps = warmupSteps
        self.name = name
    }

    convenience init(config c: ObjectConfig) throws {
        let steps = try c.double("decay_steps")
        guard steps > 0 else { throw TrainingError.badConfig("\(c.owner): decay_steps must be > 0") }
        try self.init(initialLearningRate: c.double("initial_learning_rate"), decaySteps: steps,
                  alpha: try c.double("alpha", default: 0), warmupTarget: try c.optionalDouble("warmup_target"),
                  warmupSteps: try c.double("warmup_steps", default: 0), name: try c.string("name", default: "CosineDecay"))
    }

    private func decay(_ step: Float, _ steps: Float, from lr: Float) -> Float {
        let fraction = step / steps
        let cosine = 0.5 * (1 + Foundation.cos(pi32 * fraction))
        return lr * (Float(1 - alpha) * cosine + Float(alpha))
    }

    public func callAsFunction(_ step: Int) -> Float {
        let lr0 = Float(initialLearningRate), steps = Float(decaySteps)
        guard let warmupTarget else { return decay(Swift.min(Float(step), steps), steps, from: lr0) }
        let target = Float(warmupTarget), warmup = Float(warmupSteps)
        let s = Swift.min(Float(step), steps + warmup)
        if s < warmup { return (target - lr0) * (s / warmup) + lr0 }
        return decay(s - warmup, steps, from: target)
    }

    public func getConfig() -> JSONObject {
        ["initial_learning_rate": .double(initialLearningRate), "decay_steps": JSONValue(number: decaySteps),
         "alpha": .double(alpha), "name": .string(name), "warmup_target": JSONValue(optional: warmupTarget),
         "warmup_steps": JSONValue(number: warmupSteps)]
    }
}

/// Schedules by Keras class name.
public enum LearningRateSchedules {
    /// A schedule from its serialized form (`{"class_name": …, "config": …}`).
    public static func deserialize(_ json: JSONValue) throws -> LearningRateSchedule {
        let (name, values) = try ObjectConfig.classAndConfig(json, kind: "learning-rate schedule")
        let c = ObjectConfig(values, owner: "learning-rate schedule '\(name)'")
        let schedule: LearningRateSchedule
        switch name {
        case "ExponentialDecay": schedule = try ExponentialDecay(config: c)
        case "PiecewiseConstantDecay": schedule = try PiecewiseConstantDecay(config: c)
        case "CosineDecay": schedule = try CosineDecay(config: c)
        default:
            throw TrainingError.unsupported("learning-rate schedule '\(name)'; known: ExponentialDecay, PiecewiseConstantDecay, CosineDecay")
        }
        try c.finish()
        return schedule
    }
}
