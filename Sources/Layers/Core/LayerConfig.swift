/// A Keras layer config (`layer.get_config()`) with typed accessors whose
/// errors name the layer and the key. Keys stay Keras snake_case.
public struct LayerConfig {
    public var values: JSONObject
    /// Whether the config was written by Keras 2 (tf-keras): formulas that
    /// differ between versions follow the writer.
    public var keras2 = false
    /// Builds a serialized layer `{"class_name", "config", ...}` nested in this
    /// config (a wrapper's `layer`, an RNN's `cell`). A file reader sets it so
    /// that nested models (`Sequential`, `Functional`) are rebuilt with their
    /// graphs; without it nested layers come from ``LayerRegistry``.
    public var makeNested: ((JSONValue) throws -> Layer)?
    /// The layer name, for error messages.
    public var layerName: String { values["name"]?.stringValue ?? "<unnamed>" }

    public init(_ values: JSONObject = JSONObject(), keras2: Bool = false,
                makeNested: ((JSONValue) throws -> Layer)? = nil) {
        self.values = values
        self.keras2 = keras2
        self.makeNested = makeNested
    }

    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    func fail(_ key: String, _ expected: String) -> LayerError {
        .badConfig(layer: layerName, "config key '\(key)' must be \(expected), got \(values[key].map { $0.serialized() } ?? "nothing")")
    }

    /// Whether the key is present and not null.
    public func has(_ key: String) -> Bool { values[key].map { !$0.isNull } ?? false }

    /// The largest magnitude of a size-like config integer (units, filters,
    /// kernel sizes, strides, shapes, margins…): no real layer comes near it,
    /// and bounding them keeps every shape computation of a hostile config
    /// free of overflow. Seeds are exempt.
    public static let maxDimension = 1 << 31

    func bounded(_ key: String, _ v: Int) throws -> Int {
        guard v.magnitude <= LayerConfig.maxDimension else {
            throw fail(key, "an integer of magnitude at most 2^31")
        }
        return v
    }

    public func int(_ key: String) throws -> Int {
        guard let v = values[key]?.intValue else { throw fail(key, "an integer") }
        return key == "seed" ? v : try bounded(key, v)
    }
    public func int(_ key: String, default d: Int) throws -> Int { has(key) ? try int(key) : d }

    public func double(_ key: String) throws -> Double {
        guard let v = values[key]?.doubleValue else { throw fail(key, "a number") }
        return v
    }
    public func float(_ key: String, default d: Float) throws -> Float { has(key) ? Float(try double(key)) : d }
    public func optionalFloat(_ key: String) throws -> Float? { has(key) ? Float(try double(key)) : nil }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard has(key) else { return d }
        guard let v = values[key]?.boolValue else { throw fail(key, "true or false") }
        return v
    }

    public func string(_ key: String) throws -> String {
        guard let v = values[key]?.stringValue else { throw fail(key, "a string") }
        return v
    }
    public func string(_ key: String, default d: String) throws -> String { has(key) ? try string(key) : d }

    /// An integer tuple; a single integer is repeated `count` times (Keras's
    /// `standardize_tuple`).
    public func ints(_ key: String, count: Int) throws -> [Int] {
        if let v = values[key]?.intValue { return [Int](repeating: try bounded(key, v), count: count) }
        guard let a = values[key]?.arrayValue, a.count == count else { throw fail(key, "an integer or \(count) integers") }
        return try a.map { guard let i = $0.intValue else { throw fail(key, "integers") }; return try bounded(key, i) }
    }
    public func ints(_ key: String, count: Int, default d: [Int]) throws -> [Int] {
        has(key) ? try ints(key, count: count) : d
    }
    /// A list of integers of any length.
    public func intList(_ key: String) throws -> [Int] {
        guard let a = values[key]?.arrayValue else { throw fail(key, "a list of integers") }
        return try a.map { guard let i = $0.intValue else { throw fail(key, "integers") }; return try bounded(key, i) }
    }
    /// A shape: integers or nulls.
    public func shape(_ key: String) throws -> Shape {
        guard let a = values[key]?.arrayValue else { throw fail(key, "a shape") }
        return try a.map {
            if $0.isNull { return nil }
            guard let i = $0.intValue, i >= 0 else { throw fail(key, "a shape of non-negative integers or nulls") }
            return try bounded(key, i)
        }
    }

    /// One of the allowed strings (Keras lower-cases `padding` and friends).
    public func choice(_ key: String, _ allowed: [String], default d: String) throws -> String {
        let v = try string(key, default: d).lowercased()
        guard allowed.contains(v) else { throw fail(key, "one of \(allowed)") }
        return v
    }
}

/// A Keras shape: `nil` for an unknown dimension such as the batch.
public typealias Shape = [Int?]

/// Formats a shape as Keras prints it: `(None, 28, 28, 3)`.
public func formatShape(_ shape: Shape) -> String {
    let parts = shape.map { $0.map(String.init) ?? "None" }
    return "(" + parts.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

extension JSONValue {
    /// A shape as JSON: integers and nulls.
    public init(shape: Shape) { self = .array(shape.map { $0.map { .int($0) } ?? .null }) }
    /// An integer list as JSON.
    public init(ints: [Int]) { self = .array(ints.map { .int($0) }) }
    /// A Float as a JSON number, printed as Python prints the float32 value cast to float64.
    public init(_ f: Float) { self = .double(Double(f)) }
}

extension Layer {
    /// The config a Swift initializer passes to `init(config:)`, so that Swift arguments and Keras
    /// configs share one parsing and validation path: the name (a fresh unique
    /// one when nil, so errors can name the layer), then `values`.
    static func swiftConfig(name: String?, _ values: JSONObject) -> LayerConfig {
        var c: JSONObject = ["name": .string(name ?? NameScope.unique(for: className))]
        for (key, value) in values { c[key] = value }
        return LayerConfig(c)
    }
}
