import Layers

/// Which Keras a written config is meant for.
public enum ConfigStyle: Sendable {
    /// Keras-2 style, for legacy `.h5` files that tf-keras and Keras 3 both load.
    case legacy
    /// Keras 3 style, for `.keras` archives.
    case keras3
}

/// The kinds of serialized Keras objects whose constructors ``ConfigKeys`` lists.
enum ObjectKind: String {
    case layer, initializer, regularizer, constraint, optimizer
}

/// The config keys one Keras class accepts, from ``ConfigKeys``.
struct AcceptedKeys {
    /// Keys Keras 3 accepts, with their defaults when known.
    var keras3: [String: JSONValue?]
    /// Keys tf-keras accepts, with their defaults; nil when tf-keras lacks the class.
    var tfKeras: [String: JSONValue?]?

    /// Every parsed row of ``ConfigKeys/table``, keyed by `"<kind> <ClassName>"`.
    static let table: [String: AcceptedKeys] = {
        var rows: [String: AcceptedKeys] = [:]
        for line in ConfigKeys.table.split(separator: "\n") {
            let halves = line.split(separator: "|", maxSplits: 1).map { $0.split(separator: " ") }
            guard halves.count == 2, halves[0].count >= 2 else { continue }
            let head = halves[0]
            rows["\(head[0]) \(head[1])"] = AcceptedKeys(
                keras3: keys(head.dropFirst(2)),
                tfKeras: halves[1] == ["-"] ? nil : keys(halves[1][...]))
        }
        return rows
    }()

    /// `key` or `key=<json>` tokens.
    private static func keys(_ tokens: ArraySlice<Substring>) -> [String: JSONValue?] {
        var out: [String: JSONValue?] = [:]
        for token in tokens {
            let parts = token.split(separator: "=", maxSplits: 1)
            out[String(parts[0])] = parts.count == 2 ? try? JSONValue(parsing: String(parts[1])) : nil
        }
        return out
    }

    /// The keys of a Keras class, or nil for classes Keras does not define (custom objects).
    static func of(_ kind: ObjectKind, _ className: String) -> AcceptedKeys? { table["\(kind.rawValue) \(className)"] }

    /// Whether a reader of `style` accepts `key`. A legacy file must suit both
    /// versions, except for classes tf-keras lacks, where only Keras 3 can read it.
    func accepts(_ key: String, style: ConfigStyle) -> Bool {
        guard keras3[key] != nil else { return false }
        guard style == .legacy, let tfKeras else { return true }
        return tfKeras[key] != nil
    }

    /// Whether `value` is the default of `key` in the version that knows the
    /// key, so leaving it out changes nothing.
    func isDefault(_ key: String, _ value: JSONValue) -> Bool {
        let defaults = [keras3[key], tfKeras?[key]].compactMap { $0 }.compactMap { $0 }
        return defaults.contains { sameValue($0, value) }
    }

    /// `config` without the keys a reader of `style` rejects, as long as
    /// dropping them keeps the meaning. A key that one Keras version honours
    /// and that affects predictions stays when it holds anything but its
    /// default, so a reader that cannot
    /// honour it refuses the file ("Unrecognized keyword arguments") instead
    /// of silently computing something else. Keys no version knows mean
    /// nothing to Keras and are dropped, and so are the input-shape keys a
    /// reader rejects (tf-keras's `batch_input_shape` on an `Embedding`): in a
    /// model the inputs fix the shapes.
    func filter(_ config: JSONObject, style: ConfigStyle) -> JSONObject {
        var out = JSONObject()
        for (key, value) in config
        where accepts(key, style: style)
            || (isKnown(key) && !isDefault(key, value) && !Self.isTrainingOnly(key) && !Self.isInputShape(key)) {
            out[key] = value
        }
        return out
    }

    /// Keys that only declare the shape a layer expects as a model's first layer.
    static func isInputShape(_ key: String) -> Bool {
        key == "batch_input_shape" || key == "input_shape" || key == "batch_size"
    }

    /// Keys that shape training only (initial values, penalties, constraints,
    /// random seeds): leaving them out never changes a prediction of a loaded model.
    static func isTrainingOnly(_ key: String) -> Bool {
        key == "seed" || key.hasSuffix("_initializer") || key.hasSuffix("_regularizer") || key.hasSuffix("_constraint")
    }

    /// Whether either version accepts `key`.
    private func isKnown(_ key: String) -> Bool { keras3[key] != nil || tfKeras?[key] != nil }

    /// `config` with only the keys a reader of `style` accepts, for objects
    /// whose other keys cannot change a prediction (optimizers).
    func restrict(_ config: JSONObject, style: ConfigStyle) -> JSONObject {
        var out = JSONObject()
        for (key, value) in config where accepts(key, style: style) { out[key] = value }
        return out
    }
}

/// JSON equality where numbers compare by value (`0` equals `0.0`), as in Python.
func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.int, .double), (.double, .int), (.double, .double): return a.doubleValue == b.doubleValue
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameValue)
    default: return a == b
    }
}
