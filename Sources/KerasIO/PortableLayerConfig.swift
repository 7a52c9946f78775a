import Layers

/// A layer's own config made readable by the target Keras: dtype and nested
/// objects in the style's form, keys and values translated where the
/// versions spell the same meaning differently, and keys the reader rejects
/// left out (see ``AcceptedKeys/filter(_:style:)``).
extension ModelConfigWriter {
    func layerConfig(_ layer: Layer) throws -> JSONObject {
        let className = type(of: layer).className
        var c = layer.getConfig()
        c["name"] = .string(Self.writtenName(layer))
        for (key, value) in c {
            if key == "dtype" {
                c[key] = dtypeValue(value)
            } else if key.hasSuffix("_initializer") {
                c[key] = serializedObject(value, .initializer, module: "keras.initializers")
            } else if key.hasSuffix("_regularizer") {
                c[key] = serializedObject(value, .regularizer, module: "keras.regularizers")
            } else if key.hasSuffix("_constraint") {
                c[key] = serializedObject(value, .constraint, module: "keras.constraints")
            } else if key == "activation" || key == "recurrent_activation", let name = value.stringValue {
                c[key] = .string(activationName(name))
            }
        }
        if let bidirectional = layer as? Bidirectional, style == .legacy {
            try writeLegacyDirections(bidirectional, into: &c)
        } else {
            for (key, sublayer) in layer.nestedConfigLayers { c[key] = .object(try object(for: sublayer, wrapped: true)) }
        }
        c = layer.portableConfig(c, keras3: style == .keras3)
        return AcceptedKeys.of(.layer, className)?.filter(c, style: style) ?? c
    }

    /// `silu` is `swish` to tf-keras; Keras 3 reads both and writes `silu`.
    private func activationName(_ name: String) -> String {
        switch (name, style) {
        case ("silu", .legacy): return "swish"
        case ("swish", .keras3): return "silu"
        default: return name
        }
    }

    /// The original layer of a Bidirectional, as both versions rebuild the two
    /// directions from it: tf-keras names them `forward_<name>` and
    /// `backward_<name>`, and Keras 3 adds a missing `forward_`. The backward
    /// layer is written only when it is not the mirror of the forward one.
    private func writeLegacyDirections(_ b: Bidirectional, into c: inout JSONObject) throws {
        func original(_ layer: Layer, _ prefix: String) throws -> JSONObject {
            var entry = try object(for: layer, wrapped: true)
            var config = entry["config"]?.objectValue ?? JSONObject()
            let name = Self.writtenName(layer)
            config["name"] = .string(name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name)
            entry["config"] = .object(config)
            return entry
        }
        let forward = try original(b.forwardLayer, "forward_")
        let backward = try original(b.backwardLayer, "backward_")
        func direction(_ entry: JSONObject) -> JSONObject? {
            var config = entry["config"]?.objectValue
            config?["go_backwards"] = nil
            return config
        }
        c["layer"] = .object(forward)
        c["backward_layer"] = direction(forward) == direction(backward) ? nil : .object(backward)
    }

    /// The dtype policy: its name for tf-keras, a `DTypePolicy` object for Keras 3.
    func dtypeValue(_ value: JSONValue) -> JSONValue {
        let name = dtypeName(value)
        switch style {
        case .legacy: return .string(name)
        case .keras3:
            return ["module": "keras", "class_name": "DTypePolicy", "config": ["name": .string(name)], "registered_name": nil]
        }
    }

    /// The policy name of a dtype string or policy object (`Policy`, `DTypePolicy`, ...).
    func dtypeName(_ value: JSONValue) -> String {
        value.stringValue ?? value["config"]?["name"]?.stringValue ?? "float32"
    }

    /// An initializer, regularizer or constraint: names stay names; Keras
    /// classes are written with the keys the reader accepts; custom objects as given.
    private func serializedObject(_ value: JSONValue, _ kind: ObjectKind, module: String) -> JSONValue {
        guard let className = value["class_name"]?.stringValue, let accepted = AcceptedKeys.of(kind, className) else {
            return value
        }
        let config = JSONValue.object(accepted.filter(value["config"]?.objectValue ?? JSONObject(), style: style))
        switch style {
        case .legacy: return ["class_name": .string(className), "config": config]
        case .keras3: return ["module": .string(module), "class_name": .string(className), "config": config, "registered_name": nil]
        }
    }
}
