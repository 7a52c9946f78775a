import Layers

/// The compile settings a file carries, in its two Keras forms: a legacy
/// `.h5`'s `training_config` (`optimizer_config` plus loss and metrics) and a
/// `.keras` archive's `compile_config` (a serialized `optimizer` plus the
/// same keys). Either form converts to the other; optimizer configs keep
/// only the keys the reader accepts (see ``AcceptedKeys/restrict(_:style:)``).
enum TrainingConfig {
    /// The keys both forms share, in Keras's order.
    private static let sharedKeys = ["loss", "loss_weights", "metrics", "weighted_metrics"]

    /// Short loss and metric names that Keras 3 cannot resolve in a legacy
    /// `training_config` (`"mse"` raises "Could not deserialize 'keras.metrics.mse'"), with the full names both versions know.
    private static let fullNames = [
        "mse": "mean_squared_error", "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
        "msle": "mean_squared_logarithmic_error",
    ]

    /// `value` (a name, or lists and dicts of names) with short names spelled out.
    private static func spelledOut(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let name): return .string(fullNames[name] ?? name)
        case .array(let items): return .array(items.map(spelledOut))
        case .object(let object) where object["class_name"] == nil:
            var out = JSONObject()
            for (key, item) in object { out[key] = spelledOut(item) }
            return .object(out)
        default: return value
        }
    }

    /// Optimizer keys that tf-keras's legacy optimizers reject, with the value
    /// at which dropping them changes nothing (nil: any value). tf-keras builds
    /// those optimizers from any config without `is_legacy_optimizer: false`,
    /// a key Keras 3 rejects in turn; a non-default value is kept, for Keras 3.
    private static let keras3Only: [String: JSONValue?] = [
        "weight_decay": .null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": .null,
        "loss_scale_factor": .null, "gradient_accumulation_steps": .null, "jit_compile": nil, "mesh": nil,
    ]

    /// `config` as a legacy `training_config`, which tf-keras and Keras 3 both compile from.
    static func legacy(_ config: JSONValue) throws -> JSONValue {
        var out = JSONObject()
        for key in sharedKeys { out[key] = spelledOut(config[key] ?? .null) }
        out["optimizer_config"] = .object(try optimizer(config, style: .legacy))
        return .object(out)
    }

    /// `config` as a Keras 3 `compile_config`.
    static func compileConfig(_ config: JSONValue) throws -> JSONValue {
        var out: JSONObject = ["optimizer": .object(try optimizer(config, style: .keras3))]
        for key in sharedKeys { out[key] = config[key] ?? .null }
        for (key, value) in [("run_eagerly", false), ("steps_per_execution", 1), ("jit_compile", false)] as [(String, JSONValue)] {
            out[key] = config[key] ?? value
        }
        return .object(out)
    }

    /// The optimizer of either form, serialized for `style`.
    private static func optimizer(_ config: JSONValue, style: ConfigStyle) throws -> JSONObject {
        guard let given = (config["optimizer_config"] ?? config["optimizer"])?.objectValue,
              let written = given["class_name"]?.stringValue else {
            throw KerasIOError(part: "training_config", "the training config names no optimizer ('optimizer_config' or 'optimizer')")
        }
        // tf-keras registers its optimizers as `Custom>Adam`.
        let className = written.hasPrefix("Custom>") ? String(written.dropFirst("Custom>".count)) : written
        var body = given["config"]?.objectValue ?? JSONObject()
        if let accepted = AcceptedKeys.of(.optimizer, className) { body = accepted.restrict(body, style: style) }
        switch style {
        case .legacy:
            for (key, value) in body where keras3Only[key].map({ $0 == nil || sameValue($0!, value) }) == true {
                body[key] = nil
            }
            return ["class_name": .string(className), "config": .object(body)]
        case .keras3: return ["module": "keras.optimizers", "class_name": .string(className), "config": .object(body), "registered_name": nil]
        }
    }
}
