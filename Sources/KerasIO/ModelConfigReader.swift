import Layers

/// Rebuilds models from Keras `model_config` JSON: Sequential and Functional,
/// nested models, both inbound-node formats (Keras 2 lists, Keras 3
/// args/kwargs), and the class-name and shape spellings of every Keras version.
public struct ModelConfigReader {
    /// Whether the writer was Keras 2 (tf.keras/tf-keras): nested models then
    /// count their internal node in `node_index`, and version-dependent
    /// formulas (`hard_sigmoid`) follow Keras 2.
    public var keras2: Bool

    public init(keras2: Bool) { self.keras2 = keras2 }

    /// Builds a top-level model object; `part` names it in errors (`model_config`, `config.json`).
    public func makeModel(_ entry: JSONValue, part: String) throws -> Model {
        let layer = try makeLayer(entry)
        guard let model = layer as? Model else {
            throw KerasIOError(part: part, "the top-level object is a \(type(of: layer).className), not a model")
        }
        return model
    }

    /// Builds the object `{"class_name": ..., "config": ...}` as a model or layer.
    public func makeLayer(_ entry: JSONValue) throws -> Layer {
        guard let className = entry["class_name"]?.stringValue else {
            throw KerasIOError(part: "model_config", "a layer entry has no 'class_name'")
        }
        let registered = entry["registered_name"]?.stringValue
        switch className {
        case "Sequential":
            return try makeSequential(entry["config"] ?? .null, buildConfig: entry["build_config"])
        case "Functional", "Model":
            return try makeFunctional(entry["config"] ?? .null)
        default:
            guard let body = entry["config"]?.objectValue else {
                throw KerasIOError(part: "model_config", "layer of class '\(className)' has no config object")
            }
            let config = LayerConfig(body, keras2: keras2, makeNested: makeLayer)
            // "Custom>Name" and "package>Name": try the full name, then the bare class.
            let bare = className.split(separator: ">").last.map(String.init) ?? className
            if LayerRegistry.type(className: className, registeredName: registered) != nil {
                return try LayerRegistry.makeLayer(className: className, registeredName: registered, config: config)
            }
            return try LayerRegistry.makeLayer(className: bare, registeredName: registered, config: config)
        }
    }

    // MARK: Sequential

    func makeSequential(_ config: JSONValue, buildConfig: JSONValue?) throws -> Sequential {
        // Keras < 2.2.3 wrote a bare list of layers.
        let layerEntries = config.arrayValue ?? config["layers"]?.arrayValue ?? []
        let name = config["name"]?.stringValue
        let model = try Sequential(name: name)
        // Setting `trainable` reaches every sublayer, so only a frozen model sets it:
        // `true` would unfreeze layers whose own configs say they are frozen.
        if config["trainable"]?.boolValue == false { model.trainable = false }
        var layers: [Layer] = []
        for entry in layerEntries {
            let layer = try makeLayer(entry)
            // `batch_input_shape` on the first layer stands for an InputLayer.
            if layers.isEmpty, !(layer is InputLayer),
               let shape = entry["config"]?["batch_input_shape"] ?? entry["config"]?["batch_shape"],
               let batchShape = try? LayerConfig(["s": shape]).shape("s") {
                layers.append(InputLayer(batchShape: batchShape, name: "\(layer.name)_input"))
            }
            layers.append(layer)
        }
        if !(layers.first is InputLayer), let shape = config["build_input_shape"] ?? buildConfig?["input_shape"],
           !shape.isNull, let batchShape = try? LayerConfig(["s": shape]).shape("s") {
            layers.insert(InputLayer(batchShape: batchShape), at: 0)
        }
        for layer in layers {
            do { try model.add(layer) } catch let e as LayerError {
                throw KerasIOError(part: "layer '\(layer.name)'", "\(e)")
            }
        }
        return model
    }

    // MARK: Functional

    /// One reference to a tensor: `[layer_name, node_index, tensor_index]`.
    struct TensorRef {
        var layer: String
        var node: Int
        var tensor: Int
    }

    /// Parses `["name", node, tensor]` or `["name", node, tensor, kwargs]`.
    func tensorRef(_ v: JSONValue) throws -> TensorRef {
        guard let a = v.arrayValue, a.count >= 3, let name = a[0].stringValue, let node = a[1].intValue, let tensor = a[2].intValue else {
            throw KerasIOError(part: "model_config", "bad tensor reference \(v.serialized())")
        }
        return TensorRef(layer: name, node: node, tensor: tensor)
    }

    /// The tensor references of one call, in both node formats, and the
    /// call's keyword arguments that `layer` models (``Layer/callArgumentKeys``).
    /// Positional tensors that tf-keras writes as keyword arguments and tensor
    /// keyword arguments (``Layer/tensorCallArgumentKeys``, marked `true` among
    /// the arguments) follow the positional inputs.
    func callInputs(_ node: JSONValue, layer: String, type: Layer.Type? = nil) throws -> (refs: [TensorRef], arguments: JSONObject) {
        let positional = type?.positionalCallArgumentKeys ?? [], tensorKeys = type?.tensorCallArgumentKeys ?? []
        let valueKeys = type?.callArgumentKeys ?? []
        var refs: [TensorRef] = []
        var kwargs: JSONObject = [:]
        /// The references in a keyword argument's value (Keras 3 keras tensors or Keras 2 `[name, node, tensor]` lists).
        var isTensor: (JSONValue) -> Bool
        var references: (JSONValue) throws -> [TensorRef]
        if let args = node["args"]?.arrayValue {
            // Keras 3: a tensor, or a list of tensors as the first argument.
            func collect(_ v: JSONValue) throws -> [TensorRef] {
                if v["class_name"]?.stringValue == "__keras_tensor__" {
                    guard let h = v["config"]?["keras_history"] else {
                        throw KerasIOError(part: "layer '\(layer)'", "a keras tensor without keras_history")
                    }
                    return [try tensorRef(h)]
                }
                return try (v.arrayValue ?? []).flatMap(collect)
            }
            refs = try args.flatMap(collect)
            kwargs = node["kwargs"]?.objectValue ?? [:]
            isTensor = { $0.serialized().contains("__keras_tensor__") }
            references = collect
        } else {
            // Keras 2: a list of [name, node, tensor, kwargs].
            guard let list = node.arrayValue else {
                throw KerasIOError(part: "layer '\(layer)'", "bad inbound node \(node.serialized())")
            }
            refs = try list.map(tensorRef)
            for r in list { for (key, value) in r.arrayValue?.dropFirst(3).first?.objectValue ?? [:] { kwargs[key] = value } }
            func isReference(_ v: JSONValue) -> Bool {
                guard let a = v.arrayValue else { return false }
                if a.count >= 3, a[0].stringValue != nil, a[1].intValue != nil, a[2].intValue != nil { return true }
                return !a.isEmpty && a.allSatisfy(isReference)
            }
            func collect(_ v: JSONValue) throws -> [TensorRef] {
                guard let a = v.arrayValue else { return [] }
                if a.count >= 3, a[0].stringValue != nil { return [try tensorRef(v)] }
                return try a.flatMap(collect)
            }
            isTensor = isReference
            references = collect
        }
        /// Whether `v` is a list of tensors rather than one tensor.
        func isListOfTensors(_ v: JSONValue) -> Bool {
            guard let a = v.arrayValue, let first = a.first else { return false }
            return first["class_name"]?.stringValue == "__keras_tensor__" || first.arrayValue != nil
        }
        var arguments: JSONObject = [:]
        for key in positional { if let v = kwargs[key], !v.isNull { refs += try references(v) } }
        for key in tensorKeys {
            guard let v = kwargs[key], !v.isNull else { continue }
            let given = try references(v)
            refs += given
            // A list of tensors (`initial_state=[h, c]`) is marked by its length.
            arguments[key] = isListOfTensors(v) || given.count != 1 ? .int(given.count) : true
        }
        for (key, value) in kwargs where !positional.contains(key) && !tensorKeys.contains(key) {
            if valueKeys.contains(key) {
                arguments[key] = value
            } else if key != "mask" && isTensor(value) {
                // A mask argument is the propagated mask (see OperationNodes.maskComputations).
                throw KerasIOError(part: "layer '\(layer)'", "tensor keyword argument '\(key)' is not supported")
            }
        }
        return (refs, arguments)
    }

    func makeFunctional(_ config: JSONValue) throws -> Model {
        guard let entries = config["layers"]?.arrayValue else {
            throw KerasIOError(part: "model_config", "a functional model config needs 'layers'")
        }
        var created: [String: Layer] = [:]
        var order: [String] = []
        var pending: [String: [JSONValue]] = [:]
        let maskComputations = OperationNodes.maskComputations(entries)
        for original in entries where !maskComputations.contains(original["name"]?.stringValue ?? "") {
            // Keras 3 ops and tf-keras TFOpLambda calls become the equivalent layers.
            let entry = try OperationNodes.layerEntry(for: original) ?? original
            let layer = try makeLayer(entry)
            let name = entry["name"]?.stringValue ?? layer.name
            guard created[name] == nil else { throw KerasIOError(part: "model_config", "two layers are named '\(name)'") }
            created[name] = layer
            order.append(name)
            pending[name] = entry["inbound_nodes"]?.arrayValue ?? []
        }

        // Outputs of each call, by the node index the config uses for it.
        var outputs: [String: [Int: [KerasTensor]]] = [:]
        var nextConfigIndex: [String: Int] = [:]
        for name in order {
            let layer = created[name]!
            if let input = layer as? InputLayer {
                outputs[name] = [0: [input.output]]
            }
            nextConfigIndex[name] = keras2 && layer is Model && (layer as? Model)?.inputs.isEmpty == false ? 1 : 0
        }

        func resolve(_ ref: TensorRef) -> KerasTensor? {
            guard let calls = outputs[ref.layer] else { return nil }
            let index = created[ref.layer] is InputLayer ? 0 : ref.node
            guard let outs = calls[index], ref.tensor >= 0, ref.tensor < outs.count else { return nil }
            return outs[ref.tensor]
        }

        /// An `input_layers`/`output_layers` reference. Keras 3 counts a nested
        /// functional model's internal node there (`functional_from_config`'s
        /// `get_tensor` subtracts one, and -1 picks the last call).
        func resolveEndpoint(_ ref: TensorRef) -> KerasTensor? {
            guard !keras2, let model = created[ref.layer] as? Model, !(model is Sequential) else { return resolve(ref) }
            let calls = nextConfigIndex[ref.layer] ?? 0
            let node = ref.node - 1 < 0 ? calls + ref.node - 1 : ref.node - 1
            return resolve(TensorRef(layer: ref.layer, node: node, tensor: ref.tensor))
        }

        // Call layers as their inputs become available, in config order.
        var argumentsSet = Set<String>()
        var progress = true
        while progress && pending.values.contains(where: { !$0.isEmpty }) {
            progress = false
            for name in order {
                guard var nodes = pending[name], !nodes.isEmpty else { continue }
                let layer = created[name]!
                while let node = nodes.first {
                    let (refs, arguments) = try callInputs(node, layer: name, type: type(of: layer))
                    if argumentsSet.insert(name).inserted {
                        layer.callArguments = arguments
                    } else if layer.callArguments != arguments {
                        throw KerasIOError(part: "layer '\(name)'", "calls with different keyword arguments are not supported")
                    }
                    for r in refs where created[r.layer] == nil {
                        throw KerasIOError(part: "layer '\(name)'", "input refers to unknown layer '\(r.layer)'")
                    }
                    let inputs = refs.map(resolve)
                    if inputs.contains(where: { $0 == nil }) { break }
                    let result: [KerasTensor]
                    do { result = try layer(inputs.map { $0! }) } catch let e as LayerError {
                        throw KerasIOError(part: "layer '\(name)'", "\(e)")
                    }
                    let index = nextConfigIndex[name, default: 0]
                    outputs[name, default: [:]][index] = result
                    nextConfigIndex[name] = index + 1
                    nodes.removeFirst()
                    progress = true
                }
                pending[name] = nodes
            }
        }
        if let stuck = order.first(where: { !(pending[$0] ?? []).isEmpty }) {
            throw KerasIOError(part: "layer '\(stuck)'", "its inputs can never be computed (a dangling or cyclic reference)")
        }

        func refs(_ key: String) throws -> [TensorRef] {
            // Keras 3 writes dict inputs/outputs as a dict; its `model.inputs`
            // and `model.outputs` flatten them in sorted key order.
            if let named = config[key]?.objectValue {
                return try named.keys.sorted().map { try tensorRef(named[$0]!) }
            }
            guard let v = config[key], let a = v.arrayValue else {
                throw KerasIOError(part: "model_config", "a functional model config needs '\(key)'")
            }
            // A single triple may be written flat.
            if a.count >= 3, a[0].stringValue != nil, a[1].intValue != nil { return [try tensorRef(v)] }
            return try a.map(tensorRef)
        }
        let inputs = try refs("input_layers").map { r -> KerasTensor in
            guard let t = resolveEndpoint(r) else { throw KerasIOError(part: "input_layers", "no tensor '\(r.layer)'[\(r.node)][\(r.tensor)]") }
            return t
        }
        let outs = try refs("output_layers").map { r -> KerasTensor in
            guard let t = resolveEndpoint(r) else { throw KerasIOError(part: "output_layers", "no tensor '\(r.layer)'[\(r.node)][\(r.tensor)]") }
            return t
        }
        do {
            let model = try Model(inputs: inputs, outputs: outs, name: config["name"]?.stringValue)
            if config["trainable"]?.boolValue == false { model.trainable = false }
            return model
        } catch let e as LayerError {
            throw KerasIOError(part: "model_config", "\(e)")
        }
    }
}
