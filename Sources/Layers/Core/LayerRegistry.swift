import Foundation
/// Maps Keras `class_name`s (and registered names such as
/// `keras_delta>DeltaActivation`) to Swift layer types.
///
/// ```swift
/// LayerRegistry.register("MyLayer", MyLayer.self)
/// let layer = try LayerRegistry.makeLayer(className: "Dense", config: config)
/// ```
public enum LayerRegistry {
    // Every access holds `lock`: threads may load models while another registers a layer.
    nonisolated(unsafe) private static var types: [String: Layer.Type] = builtIns
    private static let lock = NSLock()

    /// Registers (or replaces) the Swift type for a Keras class or registered name.
    public static func register(_ name: String, _ type: Layer.Type) {
        lock.lock(); defer { lock.unlock() }
        types[name] = type
    }

    /// The Swift type for a class name, trying the registered name first.
    public static func type(className: String, registeredName: String? = nil) -> Layer.Type? {
        lock.lock(); defer { lock.unlock() }
        if let r = registeredName, let t = types[r] { return t }
        return types[className]
    }

    /// Creates a layer from its Keras class name and config.
    public static func makeLayer(className: String, registeredName: String? = nil, config: LayerConfig) throws -> Layer {
        guard let t = type(className: className, registeredName: registeredName) else {
            throw LayerError.unknownLayer(layer: config.layerName, className: registeredName ?? className)
        }
        return try t.init(config: config)
    }

    /// Every registered name.
    public static var registeredNames: [String] {
        lock.lock(); defer { lock.unlock() }
        return types.keys.sorted()
    }

    static var builtIns: [String: Layer.Type] {
        var t: [String: Layer.Type] = [
            "InputLayer": InputLayer.self,
            "Dense": Dense.self,
            "Activation": ActivationLayer.self,
            "Sequential": Sequential.self,
        ]
        for (name, type) in LayerCatalog.all { t[name] = type }
        return t
    }
}
