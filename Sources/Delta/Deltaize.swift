import Layers
import Tensor

/// The options of ``deltaize(_:options:)``, as `keras-delta deltaize` takes them.
public struct DeltaizeOptions {
    /// The initial threshold of every delta layer.
    public var thresholdInit: Double = 0.1
    /// Per-layer thresholds, by the delta layer's name or the name of the layer it follows.
    public var thresholdOverrides: [String: Double] = [:]
    /// λ of every delta layer.
    public var sparsityWeight: Double = 1e-4
    /// Frames per clip for models that see one frame per batch entry.
    /// Models with an explicit time axis ignore it.
    public var clipLength: Int = 8
    /// Whether a delta layer goes on each model input.
    public var inputDelta = true
    public var thresholdGradient: DeltaActivation.ThresholdGradient = .lsq
    public var granularity: DeltaActivation.Granularity = .channel
    /// Which tensors get a delta layer besides the inputs.
    public var placement: Placement = .nonLinearities

    /// Where ``deltaize(_:options:)`` puts delta layers besides the model inputs.
    public enum Placement: String, CaseIterable {
        /// After every non-linearity whose output reaches a MAC layer (DELTA_SPEC.md § deltaize).
        case nonLinearities = "non-linearities"
        /// Also on every other tensor a MAC layer reads unquantized: residual
        /// sums, squeeze-and-excitation products, layer normalizations and
        /// linear convolutions, at the end of the shape-only, pooling and
        /// per-element affine layers after them. Their changes then stay as
        /// sparse as the quantization makes them, instead of reaching every
        /// MAC layer after them whole. A `SeparableConv2D` (or a `SeparableConv1D`
        /// that is not causal) is split into its `DepthwiseConv2D` (`1D`, named
        /// `<name>_depthwise`) and its one-tap `Conv2D` (`1D`: the layer's
        /// name, bias and activation), so that the tensor
        /// between them is quantized too: its changes spread over the
        /// depthwise window, and unquantized they reach the 1×1 convolution
        /// nearly everywhere.
        case macInputs = "mac-inputs"
    }

    public init() {}
}

/// Where ``deltaize(_:options:)`` put one delta layer.
public struct DeltaPlacement: Equatable {
    /// The delta layer's name.
    public var name: String
    /// The layer whose output it quantizes (an input layer for an input delta).
    public var after: String
    /// MACs one non-zero output element feeds downstream.
    public var fanOut: Double
    /// The MAC layers it feeds.
    public var feeds: [String]
}

/// A deltaized model and where its delta layers went.
public struct DeltaizedModel {
    public var model: Model
    public var placements: [DeltaPlacement]
    /// The nested models whose layers were inlined into `model`'s graph.
    public var inlinedModels: [String] = []

    /// A table of the placements, one row per delta layer.
    public var table: String {
        var rows = [["delta layer", "after", "fan-out", "feeds"]]
        for p in placements {
            let feeds = p.feeds.count > 3 ? p.feeds.prefix(3).joined(separator: ", ") + ", +\(p.feeds.count - 3)" : p.feeds.joined(separator: ", ")
            rows.append([p.name, p.after, formatNumber(p.fanOut), feeds])
        }
        return renderTable(rows, rightAligned: [2]) + "\(placements.count) delta layers\n"
    }
}

/// Whether a model sees time as its own axis (`[batch, time, …]`) rather than
/// one frame per batch entry: clips `[batch, T, H, W, C]` as first input (as
/// `ClipSourceOptions.match` reads them), a `TimeDistributed` layer, or a
/// sequence `[batch, T, features]` that a recurrent layer reads. An image
/// model with a recurrent layer over its rows (a CRNN) takes frames.
public func hasExplicitTimeAxis(_ model: Model) -> Bool {
    let rank = model.inputShapes.first?.count
    return rank == 5 || model.executionOrder.contains { node in
        node.layer is TimeDistributed || (rank == 3 && (node.layer is RNN || type(of: node.layer).className == "Bidirectional"))
    }
}

/// A new model with `DeltaActivation` layers (DELTA_SPEC.md § deltaize): on
/// each model input, and after every non-linearity whose output reaches a MAC
/// layer through shape-only, pooling or per-element affine layers (with
/// ``DeltaizeOptions/Placement/macInputs``, on every other tensor a MAC layer
/// reads too). Weights
/// are copied, never changed: with a small enough threshold the new model
/// predicts what the old one does. Nested models (a pretrained base inside a
/// `Sequential`) are inlined first, so their layers get delta layers too.
///
/// ```swift
/// var options = DeltaizeOptions()
/// options.thresholdInit = 0.05
/// let delta = try deltaize(model, options: options)
/// print(delta.table)
/// ```
public func deltaize(_ model: Model, options: DeltaizeOptions = DeltaizeOptions()) throws -> DeltaizedModel {
    guard options.clipLength >= 1 else { throw DeltaError.badArgument("clipLength", "must be at least 1, got \(options.clipLength)") }
    guard options.thresholdInit.isFinite, options.sparsityWeight.isFinite, options.sparsityWeight >= 0 else {
        throw DeltaError.badArgument("thresholdInit/sparsityWeight", "must be finite, sparsityWeight non-negative")
    }
    let nested = model.layers.compactMap { $0 as? Model }.map { $0.name }
    var model = try model.flattened()
    if model.executionOrder.contains(where: { $0.layer is DeltaActivation }) {
        throw DeltaError.badArgument("model", "'\(model.name)' already holds DeltaActivation layers")
    }
    if options.placement == .macInputs { model = try splitSeparableConvolutions(model) }
    let explicitTime = hasExplicitTimeAxis(model)
    let flow = DeltaFlow(model)
    let unquantized = options.placement == .macInputs ? flow.unquantizedEnds(model) : []
    let inputIDs = Set(model.inputs.map { $0.id })
    var placements: [DeltaPlacement] = []
    var knownNames = Set(model.layers.map { $0.name })

    /// The delta layer for a tensor of the original graph, or nil where none goes.
    func deltaLayer(for id: Int, shape: Shape, after layer: Layer) throws -> DeltaActivation? {
        let reach = flow.reach(id)
        guard reach.fanOut > 0, !explicitTime || shape.count >= 3 else { return nil }
        var name = "\(layer.name)_delta", n = 1
        while knownNames.contains(name) { n += 1; name = "\(layer.name)_delta_\(n)" }
        knownNames.insert(name)
        let threshold = options.thresholdOverrides[name] ?? options.thresholdOverrides[layer.name] ?? options.thresholdInit
        placements.append(DeltaPlacement(name: name, after: layer.name, fanOut: reach.fanOut, feeds: reach.feeds))
        return try DeltaActivation(thresholdInit: threshold, granularity: options.granularity,
                                   sparsityWeight: options.sparsityWeight, fanOut: reach.fanOut,
                                   clipLength: explicitTime ? nil : options.clipLength,
                                   thresholdGradient: options.thresholdGradient, name: name)
    }

    var inputDeltas: [Int: KerasTensor] = [:]
    let delta = try model.clone(weights: .copy) { layer, args, node in
        var args = args
        if options.inputDelta {
            for (i, t) in node.inputs.enumerated() where inputIDs.contains(t.id) {
                if let done = inputDeltas[t.id] { args[i] = done; continue }
                if let d = try deltaLayer(for: t.id, shape: t.shape, after: t.layer) {
                    inputDeltas[t.id] = try d(args[i])
                    args[i] = inputDeltas[t.id]!
                } else {
                    inputDeltas[t.id] = args[i]
                }
            }
        }
        var outs = try layer(args)
        for (i, id) in node.outputIDs.enumerated() where node.layer.hasNonLinearOutput || unquantized.contains(id) {
            if let d = try deltaLayer(for: id, shape: node.outputShapes[i], after: node.layer) {
                outs[i] = try d(outs[i])
            }
        }
        return outs
    }
    // Placements are listed in graph order of the new model.
    let order = Dictionary(uniqueKeysWithValues: delta.layers.enumerated().map { ($1.name, $0) })
    placements.sort { (order[$0.name] ?? 0) < (order[$1.name] ?? 0) }
    return DeltaizedModel(model: delta, placements: placements, inlinedModels: nested)
}

/// `model` with each `SeparableConv2D` and `SeparableConv1D` replaced by its
/// two halves, with the same weights and the same function: a
/// `DepthwiseConv2D` (`1D`) without bias named `<name>_depthwise` (its kernel,
/// strides, padding, dilation, depth multiplier and depthwise initializer,
/// regularizer and constraint), then a `Conv2D` (`1D`) with a kernel of one tap
/// and the layer's name, pointwise kernel, bias and activation. A
/// `SeparableConv1D` with causal padding stays whole (Keras's depthwise
/// convolutions do not take it). The model itself when it has none to split.
func splitSeparableConvolutions(_ model: Model) throws -> Model {
    func halves(_ layer: Layer) -> (BaseDepthwiseConv.Type, BaseConv.Type)? {
        switch layer {
        case is SeparableConv2D: return (DepthwiseConv2D.self, Conv2D.self)
        case let sep as SeparableConv1D where sep.padding != .causal: return (DepthwiseConv1D.self, Conv1D.self)
        default: return nil
        }
    }
    guard model.layers.contains(where: { halves($0) != nil }) else { return model }
    var names = Set(model.layers.map(\.name))
    return try model.clone(weights: .copy) { layer, args, node in
        guard let (depthwiseType, pointwiseType) = halves(node.layer), let sep = node.layer as? BaseSeparableConv else {
            return try layer(args)
        }
        var name = "\(sep.name)_depthwise", n = 1
        while names.contains(name) { n += 1; name = "\(sep.name)_depthwise_\(n)" }
        names.insert(name)
        let config = sep.getConfig()
        var depthwise = config, pointwise = config
        depthwise["name"] = .string(name)
        depthwise["activation"] = .string("linear")
        depthwise["use_bias"] = .bool(false)
        for key in ["filters", "bias_initializer", "bias_regularizer", "bias_constraint", "activity_regularizer"]
            + ["initializer", "regularizer", "constraint"].map({ "pointwise_\($0)" }) { depthwise[key] = nil }
        for key in ["initializer", "regularizer", "constraint"] {
            pointwise["kernel_\(key)"] = config["pointwise_\(key)"]
            pointwise["pointwise_\(key)"] = nil
            pointwise["depthwise_\(key)"] = nil
        }
        pointwise["depth_multiplier"] = nil
        let ones = JSONValue.array(Array(repeating: .int(1), count: sep.kernelSize.count))
        pointwise["kernel_size"] = ones
        pointwise["strides"] = ones
        pointwise["dilation_rate"] = ones
        pointwise["padding"] = .string("valid")
        pointwise["groups"] = .int(1)
        // Both keep the layer's config keys they share (trainable, dtype, data format).
        let first = try depthwiseType.init(config: LayerConfig(depthwise)), second = try pointwiseType.init(config: LayerConfig(pointwise))
        // Placeholders: no initializer runs for values that are overwritten at once.
        let out = try RandomState.withPlaceholderWeights { try second(try first(args)) }
        try first.setWeights([sep.depthwiseKernel.read()])
        try second.setWeights([sep.pointwiseKernel.read()] + (sep.useBias ? [sep.bias!.read()] : []))
        return out
    }
}

/// Where changes of each tensor of a graph go: the MAC layers they reach and
/// the MACs one element feeds there.
struct DeltaFlow {
    struct Reach { var fanOut: Double; var feeds: [String] }
    private var readers: [Int: [Node]] = [:]
    private var memo: [Int: Reach] = [:]

    init(_ model: Model) {
        for node in model.executionOrder { for t in node.inputs { readers[t.id, default: []].append(node) } }
        for node in model.executionOrder.reversed() {
            for id in node.outputIDs { memo[id] = compute(id) }
        }
        for t in model.inputs { memo[t.id] = compute(t.id) }
    }

    func reach(_ id: Int) -> Reach { memo[id] ?? Reach(fanOut: 0, feeds: []) }

    /// The tensors that ``DeltaizeOptions/Placement/macInputs`` quantizes:
    /// unquantized ones (made by a layer that is neither a non-linearity nor a
    /// pass-through of quantized tensors) that reach a MAC layer and are read
    /// by some layer that does not pass deltas. A chain of pass-throughs (a
    /// batch normalization, pooling) is quantized at its end, so that a
    /// convolution still folds the normalization after it.
    func unquantizedEnds(_ model: Model) -> Set<Int> {
        var unquantized = Set<Int>(), ends = Set<Int>()
        for node in model.executionOrder where !node.layer.hasNonLinearOutput {
            guard !node.layer.passesDeltas || node.inputs.contains(where: { unquantized.contains($0.id) }) else { continue }
            for id in node.outputIDs {
                if let readers = readers[id], !readers.allSatisfy({ $0.layer.passesDeltas }), reach(id).fanOut > 0 {
                    ends.insert(id)
                } else {
                    unquantized.insert(id)
                }
            }
        }
        return ends
    }

    /// Readers come later in execution order, so theirs are known.
    private func compute(_ id: Int) -> Reach {
        var total = Reach(fanOut: 0, feeds: [])
        for node in readers[id] ?? [] {
            let layer = node.layer
            if let macs = layer.macsPerInputElement {
                total.fanOut += macs
                total.feeds.append(layer.name)
            } else if layer.passesDeltas {
                // An element feeds what the pass-through's outputs feed, diluted where it pools.
                let index = node.inputs.firstIndex { $0.id == id }!
                let ratio = layer.passThroughRatio(node.inputs[index].shape)
                for out in node.outputIDs {
                    let r = reach(out)
                    total.fanOut += ratio * r.fanOut
                    total.feeds += r.feeds
                }
            }
        }
        var seen = Set<String>()
        total.feeds = total.feeds.filter { seen.insert($0).inserted }
        return total
    }
}
