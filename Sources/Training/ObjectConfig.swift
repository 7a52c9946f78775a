import Layers

/// The `config` of a serialized Keras object (optimizer, loss, metric,
/// schedule) with typed readers. Errors name the object and the key; keys
/// that no reader asked for are rejected by ``finish()``, as Keras rejects
/// unknown keyword arguments.
public final class ObjectConfig {
    /// What the config describes, e.g. `optimizer 'Adam'`.
    public let owner: String
    public private(set) var values: JSONObject
    private var read: Set<String> = []

    public init(_ values: JSONObject, owner: String) {
        self.values = values
        self.owner = owner
    }

    private func fail(_ key: String, _ expected: String) -> TrainingError {
        .badConfig("\(owner): key '\(key)' must be \(expected), got \(values[key].map { $0.serialized() } ?? "nothing")")
    }

    /// Whether the key is present and not null.
    public func has(_ key: String) -> Bool {
        read.insert(key)
        return values[key].map { !$0.isNull } ?? false
    }

    /// The raw value, marking the key as read.
    public func value(_ key: String) -> JSONValue? {
        read.insert(key)
        return values[key]
    }

    public func double(_ key: String) throws -> Double {
        guard let v = try optionalDouble(key) else { throw fail(key, "a number") }
        return v
    }

    public func double(_ key: String, default d: Double) throws -> Double {
        try optionalDouble(key) ?? d
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard let v = values[key]!.doubleValue else { throw fail(key, "a number") }
        return v
    }

    public func int(_ key: String, default d: Int) throws -> Int {
        try optionalInt(key) ?? d
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        guard let v = values[key]!.intValue else { throw fail(key, "an integer") }
        return v
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard has(key) else { return d }
        guard let v = values[key]!.boolValue else { throw fail(key, "true or false") }
        return v
    }

    public func string(_ key: String, default d: String) throws -> String {
        guard has(key) else { return d }
        guard let v = values[key]!.stringValue else { throw fail(key, "a string") }
        return v
    }

    public func doubles(_ key: String) throws -> [Double] {
        guard has(key), let a = values[key]!.arrayValue else { throw fail(key, "a list of numbers") }
        return try a.map { guard let d = $0.doubleValue else { throw fail(key, "a list of numbers") }; return d }
    }

    /// Sets `key` to `value` when the config lacks it.
    public func insertDefault(_ key: String, _ value: JSONValue) {
        if values[key] == nil { values[key] = value }
    }

    /// Marks keys as read without using them (Keras keys with no effect here).
    public func ignore(_ keys: String...) { read.formUnion(keys) }

    /// Throws if the config has keys no reader asked for.
    public func finish() throws {
        let unknown = values.keys.filter { !read.contains($0) }
        guard unknown.isEmpty else { throw TrainingError.badConfig("\(owner): unknown key(s) \(unknown)") }
    }

    /// Reads `{"class_name": …, "config": {…}}` (with optional `module` and
    /// `registered_name`) or a bare name. Keras 2's `Custom>Adam` style names
    /// lose their package prefix.
    static func classAndConfig(_ json: JSONValue, kind: String) throws -> (String, JSONObject) {
        if let name = json.stringValue { return (name, JSONObject()) }
        guard let cls = json["class_name"]?.stringValue else {
            throw TrainingError.badConfig("\(kind) \(json.serialized()) needs a 'class_name'")
        }
        let name = cls.split(separator: ">").last.map(String.init) ?? cls
        let configValue = json["config"] ?? .null
        guard let config = configValue.isNull ? JSONObject() : configValue.objectValue else {
            throw TrainingError.badConfig("\(kind) '\(cls)': 'config' must be an object")
        }
        return (name, config)
    }

    /// A serialized Keras 3 object: `{"module", "class_name", "config", "registered_name"}`.
    static func serialized(module: String, className: String, config: JSONObject) -> JSONValue {
        .object(["module": .string(module), "class_name": .string(className), "config": .object(config), "registered_name": nil])
    }
}

extension JSONValue {
    /// A number as JSON: an integer when it has no fraction, as Keras writes counts.
    init(number d: Double) {
        self = d.rounded() == d && Swift.abs(d) < 1e15 ? .int(Int(d)) : .double(d)
    }

    /// An optional number, `null` when absent.
    init(optional d: Double?) { self = d.map { .double($0) } ?? .null }
}
