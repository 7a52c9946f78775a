import Layers

/// Writes a model's architecture as Keras config JSON: the `model_config` of
/// a legacy `.h5` (``ConfigStyle/legacy``), which tf-keras 2 and Keras 3 both
/// load, or the `config.json` of a `.keras` archive (``ConfigStyle/keras3``).
///
/// ```swift
/// let config = try ModelConfigWriter(style: .legacy).modelConfig(model)
/// ```
///
/// Node indices differ between the readers. Keras 3 counts only the calls
/// of a layer (`["inner", 0, 0]` is the first call of a nested model), while
/// tf-keras counts a nested model's own internal node first (its first call
/// is `["inner", 1, 0]`). No single index suits both, so a legacy config
/// lists every call of a nested model twice and refers to call `k` as
/// `2k + 1`: tf-keras reads that as the first copy, Keras 3 as the second,
/// and both copies compute the same tensor. The spare calls are not part of
/// the loaded model's graph.
public struct ModelConfigWriter {
    public var style: ConfigStyle

    public init(style: ConfigStyle) { self.style = style }

    /// The model as a top-level config object: `{"class_name", "config"}` for
    /// a legacy file, the full serialized object (module, registered name,
    /// build config) for `config.json`.
    public func modelConfig(_ model: Model) throws -> JSONValue { .object(try object(for: model)) }

    /// The name a layer is written under. Keras 3 rejects `/` in layer names,
    /// which tf-keras applications use (`conv1/conv`), so it becomes `_`.
    public static func writtenName(_ layer: Layer) -> String {
        layer.name.replacingOccurrences(of: "/", with: "_")
    }

    // MARK: Objects

    /// The serialized object of any layer or model, without graph fields.
    /// `wrapped` marks a layer inside another layer's config (a wrapper's
    /// `layer`, an RNN's `cell`): both versions deserialize those the
    /// Keras 3 way, by module and class, whatever the style.
    func object(for layer: Layer, wrapped: Bool = false) throws -> JSONObject {
        if let op = layer as? OperationLayer {
            throw KerasIOError(part: "layer '\(layer.name)'", "the Keras operation \(op.module).\(op.op) can only be saved in a functional model of a .keras archive")
        }
        let id = ClassIdentity(layer)
        let full = style == .keras3 || wrapped
        var object: JSONObject = full ? ["module": id.module, "class_name": .string(id.className)]
                                      : ["class_name": .string(id.legacyClassName)]
        switch layer {
        case let input as InputLayer: object["config"] = .object(inputLayerConfig(input))
        case let sequential as Sequential: object["config"] = .object(try sequentialConfig(sequential))
        case let model as Model: object["config"] = .object(try functionalConfig(model))
        default: object["config"] = .object(try layerConfig(layer))
        }
        if full { object["registered_name"] = id.registeredName }
        if style == .keras3, let build = buildConfig(layer) { object["build_config"] = .object(build) }
        return object
    }

    /// Keras 3's `build_config`: the shapes the layer was built for.
    private func buildConfig(_ layer: Layer) -> JSONObject? {
        switch layer {
        case is InputLayer: return nil
        case let sequential as Sequential:
            return ["input_shape": sequential.inputLayer.map { JSONValue(shape: $0.batchShape) } ?? .null]
        case is Model: return ["input_shape": .null]
        default:
            let shapes = layer.builtInputShapes
            guard layer.built, !shapes.isEmpty else { return nil }
            if let named = layer.namedBuildShapes(shapes) { return ["shapes_dict": .object(named)] }
            return ["input_shape": shapes.count == 1 ? JSONValue(shape: shapes[0]) : .array(shapes.map { JSONValue(shape: $0) })]
        }
    }

    private func inputLayerConfig(_ input: InputLayer) -> JSONObject {
        let shapeKey = style == .legacy ? "batch_input_shape" : "batch_shape"
        var c: JSONObject = [shapeKey: JSONValue(shape: input.batchShape), "dtype": .string(dtypeName(input.dtype)),
                             "sparse": false, "ragged": false, "name": .string(Self.writtenName(input))]
        if style == .keras3 { c["optional"] = false }
        return c
    }

    // MARK: Sequential

    private func sequentialConfig(_ model: Sequential) throws -> JSONObject {
        var layers: [JSONValue] = []
        if let input = model.inputLayer { layers.append(.object(try object(for: input))) }
        for layer in model.layers { layers.append(.object(try object(for: layer))) }
        var c: JSONObject = ["name": .string(Self.writtenName(model)), "trainable": .bool(model.trainable), "layers": .array(layers)]
        if style == .keras3, let input = model.inputLayer { c["build_input_shape"] = JSONValue(shape: input.batchShape) }
        return c
    }

    // MARK: Functional

    private func functionalConfig(_ model: Model) throws -> JSONObject {
        let graph = GraphIndex(model)
        var layers: [JSONValue] = []
        for layer in model.layers {
            if style == .keras3, let op = layer as? OperationLayer {
                layers.append(.object(try operationEntry(op, graph)))
                continue
            }
            var entry = try object(for: layer)
            entry["name"] = .string(Self.writtenName(layer))
            entry["inbound_nodes"] = .array(try inboundNodes(of: layer, graph))
            layers.append(.object(entry))
        }
        func endpoints(_ tensors: [KerasTensor], flatSingle: Bool) throws -> JSONValue {
            let refs = try tensors.map { t -> JSONValue in
                let (name, index) = try graph.reference(t, style: style, endpoint: true)
                return [.string(name), .int(index), .int(t.index)]
            }
            return flatSingle && refs.count == 1 ? refs[0] : .array(refs)
        }
        return ["name": .string(Self.writtenName(model)), "trainable": .bool(model.trainable), "layers": .array(layers),
                "input_layers": try endpoints(model.inputs, flatSingle: style == .keras3),
                "output_layers": try endpoints(model.outputs, flatSingle: style == .keras3)]
    }

    /// An ``OperationLayer`` as the Keras 3 op node it was read from: the op's
    /// class and arguments, called on its tensors followed by its constants.
    private func operationEntry(_ op: OperationLayer, _ graph: GraphIndex) throws -> JSONObject {
        var config: JSONObject = ["name": .string(Self.writtenName(op))]
        for (key, value) in op.arguments {
            // tf functions' options that no Keras 3 op has (`tf.linalg.matmul(transpose_b=True)`).
            if Self.tfOnlyOperationArguments.contains(key) {
                guard value.boolValue != true else {
                    throw KerasIOError(part: "layer '\(op.name)'", "the Keras 3 operation \(op.op) has no argument '\(key)', so it cannot be saved")
                }
                continue
            }
            config[key] = value
        }
        let nodes = try inboundNodes(of: op, graph).map { node -> JSONValue in
            let tensors = node["args"]?.arrayValue.map { $0.count == 1 && $0[0].arrayValue != nil ? $0[0].arrayValue! : $0 } ?? []
            return ["args": .array((op.takesTensorList ? [.array(tensors)] : tensors) + op.constants), "kwargs": [:]]
        }
        return ["module": .string(op.module), "class_name": .string(op.op), "config": .object(config),
                "registered_name": .string(op.op), "name": .string(Self.writtenName(op)), "inbound_nodes": .array(nodes)]
    }

    /// Options of tf functions that a tf-keras op node may carry and no Keras 3 op accepts.
    private static let tfOnlyOperationArguments: Set<String> = ["transpose_a", "transpose_b", "exclusive", "reverse"]

    /// The calls of `layer` within the model, in the node format of the style.
    private func inboundNodes(of layer: Layer, _ graph: GraphIndex) throws -> [JSONValue] {
        var nodes: [JSONValue] = []
        for node in graph.calls(of: layer) where !node.isInput {
            if layer is Bidirectional, node.inputs.count > 1 {
                throw KerasIOError(part: "layer '\(layer.name)'", "initial states passed as graph inputs cannot be saved in a model config")
            }
            let type = Swift.type(of: layer)
            // Tensors passed as keyword arguments come last, in the layer's order: one
            // (`true`) or a list (its length); an RNN's extra inputs are its initial states.
            var tensorKeys: [(key: String, count: Int?)] = type.tensorCallArgumentKeys.compactMap { key in
                switch layer.callArguments[key] {
                case .bool(true): return (key, nil)
                case .int(let n): return (key, n)
                default: return nil
                }
            }
            if layer is RNN, tensorKeys.isEmpty, node.inputs.count > 1 { tensorKeys = [("initial_state", node.inputs.count - 1)] }
            let positionalCount = node.inputs.count - tensorKeys.reduce(0) { $0 + ($1.count ?? 1) }
            guard positionalCount >= 1 else {
                throw KerasIOError(part: "layer '\(layer.name)'", "its call arguments do not match its \(node.inputs.count) inputs")
            }
            /// The tensors of each keyword argument among `all` (the inputs), one or a list.
            func keywordTensors(_ all: [JSONValue]) -> [(String, JSONValue)] {
                var next = positionalCount
                return tensorKeys.map { key, count in
                    defer { next += count ?? 1 }
                    return (key, count.map { .array(Array(all[next..<next + $0])) } ?? all[next])
                }
            }
            var values = layer.callArguments
            for key in type.tensorCallArgumentKeys { values[key] = nil }
            switch style {
            case .legacy:
                let refs = try node.inputs.map { t -> JSONValue in
                    let (name, index) = try graph.reference(t, style: .legacy, endpoint: false)
                    return [.string(name), .int(index), .int(t.index)]
                }
                if !type.positionalCallArgumentKeys.isEmpty {
                    // tf-keras: the first tensor, the others as keyword arguments.
                    var kwargs = values
                    for (key, ref) in zip(type.positionalCallArgumentKeys, refs[1..<positionalCount]) { kwargs[key] = ref }
                    for (key, value) in keywordTensors(refs) { kwargs[key] = value }
                    nodes.append([.array(refs[0].arrayValue! + [.object(kwargs)])])
                    continue
                }
                let node: JSONValue = .array(refs.map { .array($0.arrayValue! + [.object(values)]) })
                // See the type's documentation: nested models list each call twice.
                nodes += Array(repeating: node, count: layer is Model ? 2 : 1)
            case .keras3:
                let tensors = try node.inputs.map { t -> JSONValue in
                    let (name, index) = try graph.reference(t, style: .keras3, endpoint: false)
                    return ["class_name": "__keras_tensor__", "config": [
                        "shape": JSONValue(shape: t.shape), "dtype": "float32",
                        "keras_history": [.string(name), .int(index), .int(t.index)]]]
                }
                var kwargs = values
                for (key, value) in keywordTensors(tensors) { kwargs[key] = value }
                let positional = Array(tensors[..<positionalCount])
                // A single tensor is the first argument; several are passed as one list, or
                // as separate arguments to a layer that names them (`MultiHeadAttention(query, value)`).
                let args: JSONValue = positional.count == 1 || !type.positionalCallArgumentKeys.isEmpty
                    ? .array(positional) : [.array(positional)]
                nodes.append(["args": args, "kwargs": .object(kwargs)])
            }
        }
        return nodes
    }
}

/// The Keras identity of a layer's class: module, class name and registered name.
struct ClassIdentity {
    var module: JSONValue
    var className: String
    var registeredName: JSONValue
    /// The `class_name` of a legacy config, which is the registered name for
    /// registered custom layers (`keras_delta>DeltaActivation`).
    var legacyClassName: String

    init(_ layer: Layer) {
        let type = type(of: layer)
        className = type.className
        switch layer {
        case is Sequential:
            (module, registeredName, legacyClassName) = ("keras", .null, "Sequential")
            className = "Sequential"
        case is Model:
            (module, registeredName, legacyClassName) = ("keras.src.models.functional", "Functional", "Functional")
            className = "Functional"
        default:
            if AcceptedKeys.of(.layer, className) != nil {
                (module, registeredName, legacyClassName) = ("keras.layers", .null, className)
            } else if let registered = ClassIdentity.registeredName(of: type) {
                // KERAS_FORMATS §5: `.keras` keeps the class name and names the
                // registration; a legacy config uses the registered name as class.
                (module, registeredName, legacyClassName) = (.null, .string(registered), registered)
            } else {
                (module, registeredName, legacyClassName) = (.null, .string(className), className)
            }
        }
    }

    /// A `package>Name` under which `type` is registered, if any.
    private static func registeredName(of type: Layer.Type) -> String? {
        LayerRegistry.registeredNames.first { name in
            name.contains(">") && LayerRegistry.type(className: name).map { ObjectIdentifier($0) == ObjectIdentifier(type) } == true
        }
    }
}

/// The calls of every layer of one model, numbered as configs number them.
struct GraphIndex {
    private var callsByLayer: [ObjectIdentifier: [Node]] = [:]
    private var position: [ObjectIdentifier: Int] = [:]

    init(_ model: Model) {
        for node in model.nodesByDepth.joined() { callsByLayer[ObjectIdentifier(node.layer), default: []].append(node) }
        for (key, nodes) in callsByLayer {
            let sorted = nodes.sorted { $0.index < $1.index }
            callsByLayer[key] = sorted
            for (i, node) in sorted.enumerated() { position[ObjectIdentifier(node)] = i }
        }
    }

    /// The layer's calls that belong to the model, in call order.
    func calls(of layer: Layer) -> [Node] { callsByLayer[ObjectIdentifier(layer)] ?? [] }

    /// The layer name and node index that refer to `tensor`. `endpoint`
    /// marks `input_layers`/`output_layers`, where Keras 3 counts a nested
    /// functional model's internal node first.
    func reference(_ tensor: KerasTensor, style: ConfigStyle, endpoint: Bool) throws -> (String, Int) {
        let layer = tensor.node.layer
        guard let call = position[ObjectIdentifier(tensor.node)] else {
            throw KerasIOError(part: "layer '\(layer.name)'", "a tensor of the model comes from a call outside the model's graph")
        }
        let name = ModelConfigWriter.writtenName(layer)
        switch (style, layer) {
        case (_, is InputLayer): return (name, 0)
        case (.legacy, is Model): return (name, 2 * call + 1)
        case (.keras3, is Sequential): return (name, call)
        case (.keras3, is Model): return (name, endpoint ? call + 1 : call)
        default: return (name, call)
        }
    }
}
