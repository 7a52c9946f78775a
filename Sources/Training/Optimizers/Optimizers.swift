import Foundation
import Layers

/// Optimizers by Keras name, as `keras.optimizers.get` and `deserialize`.
///
/// ```swift
/// let adam = try Optimizers.get("adam")
/// let sgd = try Optimizers.deserialize(["class_name": "SGD", "config": ["learning_rate": 0.1, "momentum": 0.9]])
/// ```
public enum Optimizers {
    nonisolated(unsafe) private static var types: [String: Optimizer.Type] = [
        "SGD": SGD.self, "Adam": Adam.self, "AdamW": AdamW.self, "RMSprop": RMSprop.self,
        "Adagrad": Adagrad.self, "Adadelta": Adadelta.self, "Nadam": Nadam.self,
    ]

    // Every access holds `lock`.
    private static let lock = NSLock()

    /// Registers (or replaces) an optimizer type under its Keras class name.
    public static func register(_ name: String, _ type: Optimizer.Type) {
        lock.lock(); defer { lock.unlock() }
        types[name] = type
    }

    /// The optimizer type for a class name, case-insensitively as Keras does.
    static func type(named name: String) -> Optimizer.Type? {
        lock.lock(); defer { lock.unlock() }
        return types[name] ?? types.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    /// Every registered name, sorted.
    static var knownNames: [String] {
        lock.lock(); defer { lock.unlock() }
        return types.keys.sorted()
    }

    /// An optimizer with Keras's defaults from its name (`"adam"`, `"sgd"`, `"rmsprop"`, …).
    public static func get(_ name: String) throws -> Optimizer {
        try deserialize(.string(name))
    }

    /// An optimizer from a serialized config, Keras 3 (`module`/`class_name`/`config`)
    /// or Keras 2 (`class_name`/`config`, `Custom>Adam` names, `lr`).
    public static func deserialize(_ json: JSONValue) throws -> Optimizer {
        let (name, values) = try ObjectConfig.classAndConfig(json, kind: "optimizer")
        guard let type = type(named: name) else {
            throw TrainingError.unsupported("optimizer '\(name)'; known: \(knownNames)")
        }
        let config = ObjectConfig(values, owner: "optimizer '\(name)'")
        let optimizer = try type.init(config: config)
        try config.finish()
        return optimizer
    }
}
