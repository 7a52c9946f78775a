import Foundation
import Tensor

/// The base of every layer, mirroring `keras.layers.Layer`.
///
/// A subclass creates its weights in ``build(_:)`` with ``addWeight(name:shape:initializer:trainable:)``
/// (creation order is the order Keras stores them), computes in
/// ``call(_:training:)``, reports shapes in ``computeOutputShapes(_:)``, and
/// round-trips its Keras config through ``init(config:)`` and ``getConfig()``.
/// Single-input layers subclass ``UnaryLayer`` instead.
open class Layer {
    /// The unique name, e.g. `"dense_1"`.
    public var name: String
    /// Whether optimizers update this layer's weights. Setting it sets sublayers too.
    open var trainable: Bool {
        didSet { for l in sublayers { l.trainable = trainable } }
    }
    /// The serialized dtype or dtype policy, kept as written.
    public var dtype: JSONValue
    /// Whether ``build(_:)`` has run.
    public internal(set) var built = false
    /// The input shapes the layer was built for.
    public internal(set) var builtInputShapes: [Shape] = []
    /// This layer's own variables, in creation order.
    public private(set) var ownWeights: [Variable] = []
    /// Losses added by the last call (activity regularizers, sparsity terms).
    public internal(set) var ownLosses: [Tensor] = []
    /// A regularizer of this layer's output (`activity_regularizer`).
    public var activityRegularizer: Regularizer?
    private var weightRegularizers: [(Variable, Regularizer)] = []
    private var constraints: [(Variable, Constraint)] = []
    /// How many times this layer was called on symbolic tensors.
    public internal(set) var inboundNodeCount = 0
    /// Output shapes of the latest symbolic call, as `model.summary()` shows them.
    public internal(set) var lastOutputShapes: [Shape]?
    /// The config this layer was created from; keys a subclass does not model
    /// are written back unchanged by ``getConfig()``.
    public let sourceConfig: JSONObject
    /// The keyword arguments of the layer's calls that a model config records
    /// besides the inputs (`use_causal_mask=True`), for the keys the class
    /// lists in ``callArgumentKeys``; a key of ``tensorCallArgumentKeys`` maps
    /// to `true` when that tensor is passed (it is then an extra input). Set
    /// by loaders before the layer is called, and written back with each call.
    public var callArguments: JSONObject = [:]

    /// The non-tensor keyword arguments of `call` the layer models.
    open class var callArgumentKeys: [String] { [] }
    /// Keyword arguments of `call` that are tensors, passed as extra inputs
    /// after the positional ones, in this order (`attention_mask`).
    open class var tensorCallArgumentKeys: [String] { [] }
    /// Positional tensor arguments after the first, by name, which tf-keras
    /// records as keyword arguments (`value`, `key` of `MultiHeadAttention`).
    /// A layer that lists them takes its tensors as separate arguments in
    /// Keras 3, not as one list.
    open class var positionalCallArgumentKeys: [String] { [] }

    /// The Keras class name written to configs; defaults to the Swift type name.
    open class var className: String { String(describing: self) }

    /// Layers owned by this one (wrapped layers, a model's layers).
    open var sublayers: [Layer] { [] }

    public init(name: String? = nil, trainable: Bool = true) {
        self.name = name ?? NameScope.unique(for: Self.className)
        self.trainable = trainable
        self.dtype = "float32"
        self.sourceConfig = JSONObject()
    }

    /// Creates the layer from a Keras config. Subclasses read their own keys and call super.
    public required init(config: LayerConfig) throws {
        self.name = config.has("name") ? try config.string("name") : NameScope.unique(for: Self.className)
        self.trainable = try config.bool("trainable", default: true)
        self.dtype = config["dtype"] ?? "float32"
        self.sourceConfig = config.values
        if config.has("activity_regularizer") {
            activityRegularizer = try Regularizer(json: config["activity_regularizer"]!, layer: name, key: "activity_regularizer")
        }
    }

    /// The Keras config. Subclasses call super and set their own keys, so the
    /// result is the source config (if any) updated with the current values.
    open func getConfig() -> JSONObject {
        var c = sourceConfig
        c["name"] = .string(name)
        c["trainable"] = .bool(trainable)
        c["dtype"] = dtype
        if let activityRegularizer { c["activity_regularizer"] = activityRegularizer.json }
        return c
    }

    /// Creates weights for the given input shapes. The default creates none.
    open func build(_ inputShapes: [Shape]) throws {}

    /// The layer's computation.
    open func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        throw LayerError.badConfig(layer: name, "\(Self.className) does not implement call")
    }

    /// Output shapes for input shapes, without computing anything.
    open func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] { inputShapes }

    // MARK: Masking

    /// Whether the layer passes masks on (Keras's `supports_masking`). A layer
    /// that does not drops the masks of its inputs, as Keras 3 does.
    open var supportsMasking: Bool { false }

    /// The computation given the inputs' masks (Keras's `mask` argument of
    /// `call`): one per input, `nil` where unmasked, a 0/1 tensor of the
    /// input's shape without its last axis. By default masks are ignored.
    open func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        try call(inputs, training: training)
    }

    /// The masks of the outputs (Keras's `compute_mask`), asked only when the
    /// layer ``supportsMasking``: by default the first input's mask, for the
    /// first output. Missing entries mean unmasked outputs.
    open func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] { [masks.first ?? nil] }

    // MARK: Weights

    /// Creates a variable named `<layer>/<name>`, appended to ``ownWeights``.
    @discardableResult
    public func addWeight(name weightName: String, shape: [Int], initializer: Initializer = .glorotUniform,
                          trainable: Bool = true, regularizer: Regularizer? = nil,
                          constraint: Constraint? = nil) throws -> Variable {
        // Shapes come from configs, which may be hostile: check before allocating.
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow else {
                throw LayerError.badConfig(layer: name, "weight '\(weightName)' has the impossible shape \(shape)")
            }
            count = product
        }
        if RandomState.placeholderDepth > 0 {
            guard count <= RandomState.placeholderBudget else {
                throw LayerError.badConfig(layer: name, "weight '\(weightName)' of shape \(shape) has more values than "
                                           + "the file holds (\(RandomState.placeholderBudget) bytes left)")
            }
            RandomState.placeholderBudget -= count
        }
        let value: Tensor
        do {
            value = RandomState.placeholderDepth > 0 ? .zeros(shape) : try initializer(shape, generator: &RandomState.generator)
        } catch let LayerError.badConfig(_, m) {
            throw LayerError.badConfig(layer: name, "weight '\(weightName)': \(m)")
        }
        let v = Variable(value, name: "\(name)/\(weightName)", trainable: trainable)
        ownWeights.append(v)
        if let regularizer { weightRegularizers.append((v, regularizer)) }
        if let constraint { constraints.append((v, constraint)) }
        return v
    }

    /// Penalties of the regularizers of this layer's and its sublayers'
    /// trainable weights (as Keras counts them), read through the recording
    /// tape so they are differentiable.
    public func regularizationLosses() throws -> [Tensor] {
        guard trainable else { return [] }
        return try weightRegularizers.filter { $0.0.trainable }.map { try $0.1.penalty($0.0.read()) }
            + sublayers.flatMap { try $0.regularizationLosses() }
    }

    /// Weight constraints of this layer and its sublayers, applied after each optimizer step.
    public var weightConstraints: [(Variable, Constraint)] { constraints + sublayers.flatMap { $0.weightConstraints } }

    /// Every variable, as `layer.weights` in Keras 3: own trainable, own
    /// non-trainable, then each sublayer's.
    public var weights: [Variable] {
        var out = ownWeights.filter { $0.trainable } + ownWeights.filter { !$0.trainable }
        var seen = Set(out.map { ObjectIdentifier($0) })
        for l in sublayers {
            for w in l.weights where seen.insert(ObjectIdentifier(w)).inserted { out.append(w) }
        }
        return out
    }

    /// Variables an optimizer updates: none when the layer is frozen.
    public var trainableWeights: [Variable] {
        guard trainable else { return [] }
        var out = ownWeights.filter { $0.trainable }
        var seen = Set(out.map { ObjectIdentifier($0) })
        for l in sublayers {
            for w in l.trainableWeights where seen.insert(ObjectIdentifier(w)).inserted { out.append(w) }
        }
        return out
    }

    /// Variables that are not trained: the rest of ``weights``.
    public var nonTrainableWeights: [Variable] {
        let t = Set(trainableWeights.map { ObjectIdentifier($0) })
        return weights.filter { !t.contains(ObjectIdentifier($0)) }
    }

    /// The values of ``weights``.
    public func getWeights() -> [Tensor] { weights.map { $0.value } }

    /// Sets ``weights`` from values in the same order; a wrong count or shape
    /// throws an error naming the layer, the weight and both shapes.
    public func setWeights(_ values: [Tensor]) throws {
        let ws = weights
        guard ws.count == values.count else {
            throw LayerError.shapeMismatch(layer: name, "setWeights expects \(ws.count) arrays, got \(values.count)")
        }
        for (w, v) in zip(ws, values) where w.shape != v.shape {
            throw LayerError.shapeMismatch(layer: name, "weight '\(w.name)' has shape \(w.shape), got \(v.shape)")
        }
        for (w, v) in zip(ws, values) { try w.assign(v) }
    }

    /// Losses of the last call of this layer and its sublayers.
    public var losses: [Tensor] { ownLosses + sublayers.flatMap { $0.losses } }

    /// The log name of each of ``ownLosses`` (nil: counted only in `loss`).
    public private(set) var ownLossNames: [String?] = []

    /// ``losses`` with their log names: `fit` logs the sum of each named group
    /// under its name (`delta_loss`), besides adding every loss to `loss`.
    public var namedLosses: [(name: String?, loss: Tensor)] {
        zip(ownLossNames, ownLosses).map { ($0, $1) } + sublayers.flatMap { $0.namedLosses }
    }

    /// Records a loss term during ``call(_:training:)``; a `name` also logs it
    /// (summed with the other losses of that name) under that name.
    public func addLoss(_ loss: Tensor, name: String? = nil) {
        ownLosses.append(loss)
        ownLossNames.append(name)
    }

    /// Clears the losses of this layer and its sublayers before a new call.
    public func clearLosses() {
        ownLosses.removeAll()
        ownLossNames.removeAll()
        for l in sublayers { l.clearLosses() }
    }

    /// Running means this layer adds to the training logs (such as a density),
    /// as Keras mean metrics: name → sum and count accumulated since
    /// ``resetTrainingMetrics()``. `fit` adds up every layer's pairs by name and
    /// logs sum ÷ count. None by default.
    open func trainingMetrics() -> [String: (sum: Double, count: Double)] { [:] }

    /// Clears what ``trainingMetrics()`` accumulated; `fit` and `evaluate` call
    /// it when they reset their metrics (each epoch, each evaluation).
    open func resetTrainingMetrics() {}

    // MARK: Calling

    /// Builds the layer once, for the first input shapes it sees.
    public func buildIfNeeded(_ inputShapes: [Shape]) throws {
        guard !built else { return }
        try build(inputShapes)
        builtInputShapes = inputShapes
        built = true
    }

    /// Calls the layer on concrete tensors, building it first if needed.
    public func callAsFunction(_ inputs: [Tensor], training: Bool = false) throws -> [Tensor] {
        try run(inputs, masks: nil, training: training)
    }

    /// Calls the layer on concrete tensors and their masks (`nil`: unmasked),
    /// as Keras's `__call__` on masked tensors: returns the outputs and, one
    /// per output, their masks from ``computeMask(_:masks:)`` when the layer
    /// ``supportsMasking``, else none.
    public func callAsFunction(_ inputs: [Tensor], masks: [Tensor?],
                               training: Bool = false) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        guard masks.count == inputs.count else {
            throw LayerError.shapeMismatch(layer: name, "got \(masks.count) masks for \(inputs.count) inputs")
        }
        let outputs = try run(inputs, masks: masks, training: training)
        let computed = supportsMasking ? try computeMask(inputs, masks: masks) : []
        return (outputs, outputs.indices.map { $0 < computed.count ? computed[$0] : nil })
    }

    /// Builds, calls (with masks when given) and records activity penalties.
    private func run(_ inputs: [Tensor], masks: [Tensor?]?, training: Bool) throws -> [Tensor] {
        try buildIfNeeded(inputs.map { $0.shape.map { Optional($0) } })
        let outputs = try masks.map { try call(inputs, masks: $0, training: training) } ?? call(inputs, training: training)
        if let activityRegularizer {
            // Keras divides by the batch size so the strength does not depend on it.
            for o in outputs {
                let penalty = try activityRegularizer.penalty(o)
                addLoss(o.rank > 0 && o.shape[0] > 0 ? penalty / Float(o.shape[0]) : penalty)
            }
        }
        return outputs
    }

    /// Calls a single-input, single-output layer on a concrete tensor.
    public func callAsFunction(_ input: Tensor, training: Bool = false) throws -> Tensor {
        let out = try callAsFunction([input], training: training)
        guard out.count == 1 else {
            throw LayerError.shapeMismatch(layer: name, "returns \(out.count) outputs; call it with an array")
        }
        return out[0]
    }

    /// Calls the layer on symbolic tensors, recording a node in the graph.
    public func callAsFunction(_ inputs: [KerasTensor]) throws -> [KerasTensor] {
        let shapes = inputs.map { $0.shape }
        try buildIfNeeded(shapes)
        let outShapes = try computeOutputShapes(shapes)
        // Hostile configs can grow shapes layer after layer; stop before they overflow.
        for shape in outShapes where shape.contains(where: { ($0 ?? 0) < 0 || ($0 ?? 0) > LayerConfig.maxDimension }) {
            throw LayerError.shapeMismatch(layer: name, "computes the output shape \(formatShape(shape)), "
                                           + "with a dimension outside 0…2^31")
        }
        let node = Node(layer: self, index: inboundNodeCount, inputs: inputs)
        inboundNodeCount += 1
        lastOutputShapes = outShapes
        return node.makeOutputs(outShapes)
    }

    /// Calls a single-input, single-output layer on a symbolic tensor.
    public func callAsFunction(_ input: KerasTensor) throws -> KerasTensor {
        let out = try callAsFunction([input])
        guard out.count == 1 else {
            throw LayerError.shapeMismatch(layer: name, "returns \(out.count) outputs; call it with an array")
        }
        return out[0]
    }

    /// The trainable-parameter count plus the non-trainable one.
    public var countParams: Int { weights.reduce(0) { $0 + $1.value.count } }

    // MARK: Delta roles (DELTA_SPEC.md § deltaize), asked by deltaize and sparsity accounting

    /// Multiply-accumulates that one input element feeds, for the layers a
    /// delta engine updates with `W·Δ` (Dense, convolutions); nil for others.
    open var macsPerInputElement: Double? { nil }

    /// Whether the output is a non-linearity (a delta layer goes after it): an
    /// activation layer, or a non-linear `activation` argument.
    open var hasNonLinearOutput: Bool {
        guard let a = getConfig()["activation"]?.stringValue else { return false }
        return a != "linear"
    }

    /// Whether a change of one input element changes only the output elements
    /// it maps to (shape-only, pooling, dropout and per-element affine layers),
    /// so deltas pass through to the layers after it.
    open var passesDeltas: Bool { false }

    /// For a layer that ``passesDeltas``: output elements per input element,
    /// which scales the fan-out seen through it (1 / stride product for
    /// pooling, 1 / spatial size for global pooling; padding counts as 1).
    open func passThroughRatio(_ inputShape: Shape) -> Double { 1 }

    // MARK: Serialization hooks, asked by the file writers (KerasIO)

    /// Sublayers written inside this layer's config, by config key (a wrapper's
    /// `layer`, an RNN's `cell`). Models write their layers themselves.
    open var nestedConfigLayers: [(key: String, layer: Layer)] { [] }

    /// The children Keras 3 saves after this layer's own variables
    /// (`saving_lib._walk_saveable`), by attribute name in its walking order.
    open func saveableChildren() throws -> [(name: String, child: SaveableChild)] {
        guard sublayers.isEmpty else {
            throw LayerError.badConfig(layer: name, "\(Self.className) has sublayers whose Keras 3 weight layout is unknown")
        }
        return []
    }

    /// Keras 3's `shapes_dict` build config, for layers it builds from named
    /// arguments (`build(query_shape, value_shape)`); nil for the others.
    open func namedBuildShapes(_ shapes: [Shape]) -> JSONObject? { nil }

    /// The config as one Keras version spells it: Keras 3 (`.keras`) or
    /// tf-keras (legacy `.h5`, which both versions read).
    open func portableConfig(_ config: JSONObject, keras3: Bool) -> JSONObject { config }
}

/// A child object Keras 3 saves weights under: one layer attribute or a list of layers.
public enum SaveableChild {
    case layer(Layer)
    case list([Layer])
}

/// A layer with one input and one output. Subclasses override the single-tensor
/// forms of build, call and output shape.
open class UnaryLayer: Layer {
    open func build(inputShape: Shape) throws {}
    open func call(_ input: Tensor, training: Bool) throws -> Tensor { input }
    open func computeOutputShape(_ inputShape: Shape) throws -> Shape { inputShape }

    public final override func build(_ inputShapes: [Shape]) throws {
        try build(inputShape: try single(inputShapes))
    }
    public final override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard inputs.count == 1 else {
            throw LayerError.shapeMismatch(layer: name, "expects 1 input, got \(inputs.count)")
        }
        return [try call(inputs[0], training: training)]
    }
    public final override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        [try computeOutputShape(try single(inputShapes))]
    }
    private func single(_ shapes: [Shape]) throws -> Shape {
        guard shapes.count == 1 else { throw LayerError.shapeMismatch(layer: name, "expects 1 input, got \(shapes.count)") }
        return shapes[0]
    }

    /// Throws unless `shape` has `rank` axes (batch included).
    public func requireRank(_ shape: Shape, _ rank: Int) throws {
        guard shape.count == rank else {
            throw LayerError.shapeMismatch(layer: name, "expects an input of rank \(rank), got shape \(formatShape(shape))")
        }
    }
}

/// Unique default names, as Keras's `auto_name`: `dense`, `dense_1`, …
public enum NameScope {
    nonisolated(unsafe) private static var counts: [String: Int] = [:]
    private static let lock = NSLock()

    /// The next free name for a class.
    public static func unique(for className: String) -> String {
        let prefix = snakeCase(className)
        lock.lock(); defer { lock.unlock() }
        let n = counts[prefix, default: 0]
        counts[prefix] = n + 1
        return n == 0 ? prefix : "\(prefix)_\(n)"
    }

    /// Forgets issued names (`keras.backend.clear_session`).
    public static func reset() {
        lock.lock(); defer { lock.unlock() }
        counts.removeAll()
    }

    /// Keras's `to_snake_case`: `Conv2D` → `conv2d`, `BatchNormalization` → `batch_normalization`.
    public static func snakeCase(_ name: String) -> String {
        var s = name.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        s = s.replacingOccurrences(of: "(.)([A-Z][a-z]+)", with: "$1_$2", options: .regularExpression)
        s = s.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression)
        return s.lowercased()
    }
}

/// The seeded generator behind weight initializers, dropout and noise.
///
/// Per thread: each thread draws from its own generator, seeded 1337 until
/// ``seed(_:)`` is called on that thread, so models built or trained on
/// several threads at once are each as reproducible as on one.
public enum RandomState {
    /// The calling thread's random state.
    final class PerThread {
        var generator = SeededGenerator(seed: 1337)
        var placeholderDepth = 0
        var placeholderBudget = Int.max
    }

    static let perThread = ThreadLocal { PerThread() }

    /// The calling thread's generator.
    public static var generator: SeededGenerator {
        get { perThread.value.generator }
        set { perThread.value.generator = newValue }
    }

    /// Seeds every random draw of the package on the calling thread (`keras.utils.set_random_seed`).
    public static func seed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

    static var placeholderDepth: Int {
        get { perThread.value.placeholderDepth }
        set { perThread.value.placeholderDepth = newValue }
    }
    static var placeholderBudget: Int {
        get { perThread.value.placeholderBudget }
        set { perThread.value.placeholderBudget = newValue }
    }

    /// Runs `body` with `addWeight` creating zero-filled weights without
    /// running initializers or drawing random numbers. For loaders that build
    /// a model and then assign every weight from a file: drawing tens of
    /// millions of values that are overwritten at once is most of the time
    /// of building a large model.
    ///
    /// `maxValues` bounds the number of weight values created (a file of N
    /// bytes holds at most N values), so a hostile config asking for a
    /// 2^40-wide layer fails with a `LayerError` before allocating anything.
    public static func withPlaceholderWeights<T>(maxValues: Int = .max, _ body: () throws -> T) rethrows -> T {
        let saved = (placeholderDepth, placeholderBudget)
        placeholderDepth += 1
        placeholderBudget = Swift.min(placeholderBudget, maxValues)
        defer { (placeholderDepth, placeholderBudget) = saved }
        return try body()
    }
}
