import Foundation
import Layers
import Tensor

/// An optimizer's learning rate: a fixed value or a schedule of the step.
public enum LearningRate: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case constant(Float)
    case schedule(LearningRateSchedule)

    public init(floatLiteral value: Double) { self = .constant(Float(value)) }
    public init(integerLiteral value: Int) { self = .constant(Float(value)) }

    /// The value at `step`.
    public func value(at step: Int) -> Float {
        switch self {
        case .constant(let v): return v
        case .schedule(let s): return s(step)
        }
    }
}

/// The base of every optimizer, following `keras.optimizers.Optimizer` with
/// the TensorFlow backend.
///
/// One call of ``apply(_:to:constraints:)`` is one Keras `apply_gradients`:
/// gradients are clipped (`clipnorm`, `global_clipnorm` or `clipvalue`),
/// weight decay `w -= w·wd·lr` is applied before the update, each variable is
/// updated by ``update(_:variable:slot:learningRate:)`` with the learning rate
/// at ``iterations`` (before the increment), constraints are applied, and
/// ``iterations`` grows by one.
///
/// Subclasses keep their state in slots (``makeSlots(_:)``), read their own
/// config keys in `init(config:)` and write them in ``getConfig()``.
open class Optimizer {
    /// The Keras class name written to configs.
    open class var className: String { String(describing: self) }
    /// The default learning rate of this optimizer in Keras.
    open class var defaultLearningRate: Double { 0.001 }

    public var name: String
    /// The learning rate or its schedule; change it with ``setLearningRate(_:)``.
    public private(set) var learningRate: LearningRate
    /// Decoupled weight decay, applied as `w -= w·wd·lr` before each update.
    public let weightDecay: Double?
    /// Clips each gradient to this L2 norm.
    public let clipnorm: Double?
    /// Clips each gradient element to `[-clipvalue, clipvalue]`.
    public let clipvalue: Double?
    /// Scales all gradients together so their global L2 norm is at most this.
    public let globalClipnorm: Double?
    /// The number of update steps applied so far.
    public internal(set) var iterations = 0
    /// The variables the optimizer was built for, in order; slot `i` belongs to variable `i`.
    public private(set) var trainedVariables: [Variable] = []

    private var slotIndex: [ObjectIdentifier: Int] = [:]
    private var decayExcluded: Set<ObjectIdentifier> = []
    private var decayExcludedPattern: String?

    public init(learningRate: LearningRate, weightDecay: Double? = nil, clipnorm: Double? = nil,
                clipvalue: Double? = nil, globalClipnorm: Double? = nil, name: String? = nil) throws {
        guard [clipnorm, clipvalue, globalClipnorm].compactMap({ $0 }).count <= 1 else {
            throw TrainingError.invalidArgument("\(Self.className): only one of clipnorm, clipvalue and globalClipnorm can be set")
        }
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.globalClipnorm = globalClipnorm
        self.name = name ?? NameScope.unique(for: Self.className)
    }

    /// Reads the keys every Keras optimizer has. Subclasses read theirs first.
    public required init(config c: ObjectConfig) throws {
        let clips = [try c.optionalDouble("clipnorm"), try c.optionalDouble("clipvalue"), try c.optionalDouble("global_clipnorm")]
        guard clips.compactMap({ $0 }).count <= 1 else {
            throw TrainingError.badConfig("\(c.owner): only one of clipnorm, clipvalue and global_clipnorm can be set")
        }
        (clipnorm, clipvalue, globalClipnorm) = (clips[0], clips[1], clips[2])
        weightDecay = try c.optionalDouble("weight_decay")
        let lrKey = c.has("learning_rate") ? "learning_rate" : "lr"   // `lr`: Keras 2.2 configs
        if let lr = c.value(lrKey), lr.objectValue != nil {
            learningRate = .schedule(try LearningRateSchedules.deserialize(lr))
        } else {
            learningRate = .constant(Float(try c.double(lrKey, default: Self.defaultLearningRate)))
        }
        name = c.has("name") ? try c.string("name", default: "") : NameScope.unique(for: Self.className)
        if try c.bool("use_ema", default: false) {
            throw TrainingError.unsupported("\(c.owner): use_ema=true (exponential moving average of weights)")
        }
        if c.has("loss_scale_factor") { throw TrainingError.unsupported("\(c.owner): loss_scale_factor") }
        if let steps = try c.optionalInt("gradient_accumulation_steps"), steps > 1 {
            throw TrainingError.unsupported("\(c.owner): gradient_accumulation_steps")
        }
        if let decay = try c.optionalDouble("decay"), decay != 0 {
            throw TrainingError.unsupported("\(c.owner): Keras 2 time-based decay (decay=\(decay)); use a schedule")
        }
        // Keras 3 keys without effect when EMA is off, and Keras 2 bookkeeping keys.
        c.ignore("ema_momentum", "ema_overwrite_frequency", "is_legacy_optimizer", "jit_compile")
    }

    /// The learning rate the next update will use.
    public var currentLearningRate: Float { learningRate.value(at: iterations) }

    /// Sets a fixed learning rate, as assigning `optimizer.learning_rate` in Keras.
    /// An optimizer made with a schedule keeps it and throws.
    public func setLearningRate(_ value: Float) throws {
        if case .schedule = learningRate {
            throw TrainingError.unsupported("optimizer '\(name)' was created with a learning-rate schedule, so its learning rate cannot be set")
        }
        learningRate = .constant(value)
    }

    /// Excludes variables, or variables whose name matches a pattern, from
    /// weight decay (`exclude_from_weight_decay`). Call it before the first update.
    public func excludeFromWeightDecay(variables: [Variable] = [], names: [String] = []) {
        decayExcluded = Set(variables.map { ObjectIdentifier($0) })
        decayExcludedPattern = names.isEmpty ? nil : names.joined(separator: "|")
    }

    private func usesWeightDecay(_ v: Variable) -> Bool {
        if decayExcluded.contains(ObjectIdentifier(v)) { return false }
        // Keras matches the variable's own name, not its path.
        let shortName = v.name.split(separator: "/").last.map(String.init) ?? v.name
        if let p = decayExcludedPattern, shortName.range(of: p, options: .regularExpression) != nil { return false }
        return true
    }

    // MARK: Building and slots

    /// Whether the slots exist.
    public var built: Bool { !trainedVariables.isEmpty }

    /// Creates the state for `variables`. Subclasses call super first, then make their slots.
    open func build(_ variables: [Variable]) {
        trainedVariables = variables
        slotIndex = Dictionary(uniqueKeysWithValues: variables.enumerated().map { (ObjectIdentifier($1), $0) })
    }

    /// One zero-initialized (or `initial`-filled) buffer per trained variable.
    public func makeSlots(_ initial: Float = 0) -> [[Float]] {
        trainedVariables.map { [Float](repeating: initial, count: $0.value.count) }
    }

    /// Called once per step before the per-variable updates (Nadam's momentum product).
    open func prepareStep() {}

    /// A slot variable's Keras 3 path after the optimizer name, its shape and its values.
    public typealias SlotVisitor = (_ path: String, _ shape: [Int], _ values: inout [Float]) throws -> Void

    /// Calls `body` with each slot variable in Keras's creation order (the
    /// order of `optimizer.variables` after `iteration` and `learning_rate`);
    /// see ``visitSlot(_:_:_:_:)``. Subclasses with state override it.
    open func forEachSlot(_ body: SlotVisitor) rethrows {}

    /// Visits the `kind` buffer of trained variable `index` under Keras's name
    /// `<variable path with _>_<kind>` (`add_variable_from_reference`).
    public func visitSlot(_ index: Int, _ kind: String, _ values: inout [Float], _ body: SlotVisitor) rethrows {
        let variable = trainedVariables[index]
        try body(variable.name.replacingOccurrences(of: "/", with: "_") + "_" + kind, variable.shape, &values)
    }

    /// Updates one variable from its (clipped) gradient. `slot` indexes this
    /// optimizer's per-variable state.
    open func update(_ gradient: [Float], variable: Variable, slot: Int, learningRate: Float) {
        fatalError("\(Self.className) must override update(_:variable:slot:learningRate:)")
    }

    // MARK: Applying gradients

    /// Applies one step of `gradients` to `variables` (Keras's `apply_gradients`).
    /// A nil gradient skips its variable. `constraints` are applied after the update.
    public func apply(_ gradients: [Tensor?], to variables: [Variable], constraints: [ObjectIdentifier: Constraint] = [:]) throws {
        guard gradients.count == variables.count else {
            throw TrainingError.invalidData("optimizer '\(name)': \(gradients.count) gradients for \(variables.count) variables")
        }
        guard !variables.isEmpty else { return }
        if !built { build(variables) }
        var pairs: [([Float], Variable, Int)] = []
        for (g, v) in zip(gradients, variables) {
            guard let slot = slotIndex[ObjectIdentifier(v)] else {
                throw TrainingError.invalidData("optimizer '\(name)' was built for other variables and does not know '\(v.name)'; "
                                                + "compile the model again (or make a new optimizer) after changing which weights train")
            }
            guard let g else { continue }
            guard g.shape == v.shape else {
                throw TrainingError.invalidData("optimizer '\(name)': gradient of shape \(g.shape) for variable '\(v.name)' of shape \(v.shape)")
            }
            pairs.append((g.scalars, v, slot))
        }
        guard !pairs.isEmpty else {
            throw TrainingError.invalidData("optimizer '\(name)': no gradients provided for any variable")
        }
        clip(&pairs)
        let lr = currentLearningRate
        if let weightDecay {
            let wd = Float(weightDecay)
            for (_, v, _) in pairs where usesWeightDecay(v) {
                v.update { w in for i in w.indices { w[i] -= w[i] * wd * lr } }
            }
        }
        prepareStep()
        for (g, v, slot) in pairs { update(g, variable: v, slot: slot, learningRate: lr) }
        for (_, v, _) in pairs {
            if let c = constraints[ObjectIdentifier(v)] { try v.assign(try c.apply(v.value)) }
        }
        iterations += 1
    }

    private func clip(_ pairs: inout [([Float], Variable, Int)]) {
        if let clipnorm, clipnorm > 0 {
            // tf.clip_by_norm: g · c / max(‖g‖, c), with ‖g‖ = 0 kept at 0.
            let c = Float(clipnorm)
            for k in pairs.indices {
                let l2sum = pairs[k].0.reduce(Float(0)) { $0 + $1 * $1 }
                let norm = l2sum > 0 ? l2sum.squareRoot() : l2sum
                let d = Swift.max(norm, c)
                pairs[k].0 = pairs[k].0.map { $0 * c / d }
            }
        } else if let globalClipnorm, globalClipnorm > 0 {
            let c = Float(globalClipnorm)
            let norm = pairs.map { $0.0.reduce(Float(0)) { $0 + $1 * $1 } }.reduce(0, +).squareRoot()
            // A non-finite norm makes the scale NaN, as in Keras.
            let scale = c * Swift.min(1 / norm, 1 / c) + (norm - norm)
            for k in pairs.indices { pairs[k].0 = pairs[k].0.map { $0 * scale } }
        } else if let clipvalue, clipvalue > 0 {
            let v = Float(clipvalue)
            for k in pairs.indices { pairs[k].0 = pairs[k].0.map { Swift.min(Swift.max($0, -v), v) } }
        }
    }

    // MARK: Config

    /// The Keras config: the shared keys in Keras's order, then the subclass's.
    open func getConfig() -> JSONObject {
        let lr: JSONValue
        switch learningRate {
        case .constant(let v): lr = JSONValue(v)
        case .schedule(let s): lr = s.serialize()
        }
        return ["name": .string(name), "learning_rate": lr, "weight_decay": JSONValue(optional: weightDecay),
                "clipnorm": JSONValue(optional: clipnorm), "global_clipnorm": JSONValue(optional: globalClipnorm),
                "clipvalue": JSONValue(optional: clipvalue), "use_ema": false, "ema_momentum": 0.99,
                "ema_overwrite_frequency": nil, "loss_scale_factor": nil, "gradient_accumulation_steps": nil]
    }

    /// `keras.optimizers.serialize`: module, class name and config.
    public func serialize() -> JSONValue {
        ObjectConfig.serialized(module: "keras.optimizers", className: Self.className, config: getConfig())
    }
}
