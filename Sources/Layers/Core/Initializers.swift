import Foundation
import Tensor

/// A Keras weight initializer (`keras.initializers.*`), built from its
/// serialized form: a name such as `"glorot_uniform"` or a
/// `{"class_name": ..., "config": {...}}` object.
public struct Initializer: Equatable {
    /// Keras class name, e.g. `"GlorotUniform"`.
    public var className: String
    /// The class's config (`seed`, `stddev`, `scale`, ...).
    public var config: JSONObject

    public init(_ className: String, config: JSONObject = JSONObject()) {
        self.className = className
        self.config = config
    }

    public static let zeros = Initializer("Zeros")
    public static let ones = Initializer("Ones")
    public static let glorotUniform = Initializer("GlorotUniform", config: ["seed": nil])
    public static let heNormal = Initializer("HeNormal", config: ["seed": nil])
    /// Keras's `"uniform"`: `RandomUniform(-0.05, 0.05)`.
    public static let randomUniform = Initializer("RandomUniform", config: ["seed": nil, "minval": -0.05, "maxval": 0.05])
    /// Keras's default for recurrent kernels.
    public static let orthogonal = Initializer("Orthogonal", config: ["seed": nil, "gain": 1.0])
    public static func constant(_ value: Double) -> Initializer { Initializer("Constant", config: ["value": .double(value)]) }

    /// snake_case aliases → class names, as `keras.initializers.get` resolves them.
    static let aliases: [String: String] = [
        "zeros": "Zeros", "zero": "Zeros", "ones": "Ones", "one": "Ones", "constant": "Constant",
        "random_normal": "RandomNormal", "normal": "RandomNormal", "random_uniform": "RandomUniform",
        "uniform": "RandomUniform", "truncated_normal": "TruncatedNormal",
        "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal",
        "he_uniform": "HeUniform", "he_normal": "HeNormal", "lecun_uniform": "LecunUniform",
        "lecun_normal": "LecunNormal", "orthogonal": "Orthogonal", "identity": "Identity",
        "variance_scaling": "VarianceScaling",
    ]
    static let known: Set<String> = Set(aliases.values)

    /// Parses a serialized initializer; `layer` and `key` label errors.
    public init(json: JSONValue, layer: String, key: String) throws {
        func fail() -> LayerError { .badConfig(layer: layer, "unknown initializer \(json.serialized()) for '\(key)'") }
        if let name = json.stringValue {
            guard let cls = Initializer.aliases[name] ?? (Initializer.known.contains(name) ? name : nil) else { throw fail() }
            self.init(cls)
        } else if let cls = json["class_name"]?.stringValue {
            let resolved = Initializer.aliases[cls] ?? cls
            guard Initializer.known.contains(resolved) else { throw fail() }
            self.init(resolved, config: json["config"]?.objectValue ?? JSONObject())
        } else {
            throw fail()
        }
    }

    /// The Keras 3 serialized form.
    public var json: JSONValue {
        .object(["module": "keras.initializers", "class_name": .string(className),
                 "config": .object(config), "registered_name": nil])
    }

    private func number(_ key: String, _ d: Double) -> Float { Float(config[key]?.doubleValue ?? d) }

    /// Keras's `compute_fans`: (fan_in, fan_out) for a weight shape.
    public static func fans(_ shape: [Int]) -> (Float, Float) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (Float(shape[0]), Float(shape[0]))
        case 2: return (Float(shape[0]), Float(shape[1]))
        default:
            let receptive = Float(shape.dropLast(2).reduce(1, *))
            return (Float(shape[shape.count - 2]) * receptive, Float(shape[shape.count - 1]) * receptive)
        }
    }

    /// A new tensor of `shape` drawn with this initializer.
    public func callAsFunction(_ shape: [Int], generator: inout SeededGenerator) throws -> Tensor {
        switch className {
        case "Zeros": return .zeros(shape)
        case "Ones": return .ones(shape)
        case "Constant": return Tensor(repeating: number("value", 0), shape: shape)
        case "RandomNormal":
            return .randomNormal(shape, mean: number("mean", 0), stddev: number("stddev", 0.05), generator: &generator)
        case "RandomUniform":
            return .randomUniform(shape, minval: number("minval", -0.05), maxval: number("maxval", 0.05), generator: &generator)
        case "TruncatedNormal":
            return .truncatedNormal(shape, mean: number("mean", 0), stddev: number("stddev", 0.05), generator: &generator)
        case "GlorotUniform": return varianceScaling(shape, 1, "fan_avg", "uniform", &generator)
        case "GlorotNormal": return varianceScaling(shape, 1, "fan_avg", "truncated_normal", &generator)
        case "HeUniform": return varianceScaling(shape, 2, "fan_in", "uniform", &generator)
        case "HeNormal": return varianceScaling(shape, 2, "fan_in", "truncated_normal", &generator)
        case "LecunUniform": return varianceScaling(shape, 1, "fan_in", "uniform", &generator)
        case "LecunNormal": return varianceScaling(shape, 1, "fan_in", "truncated_normal", &generator)
        case "VarianceScaling":
            return varianceScaling(shape, number("scale", 1), config["mode"]?.stringValue ?? "fan_in",
                                   config["distribution"]?.stringValue ?? "truncated_normal", &generator)
        case "Identity":
            guard shape.count == 2 else { throw LayerError.badConfig(layer: "", "the identity initializer needs a 2-D shape, got \(shape)") }
            let gain = number("gain", 1)
            var t = Tensor.zeros(shape)
            for i in 0..<Swift.min(shape[0], shape[1]) { t = t.setting(i * shape[1] + i, gain) }
            return t
        case "Orthogonal": return orthogonal(shape, gain: number("gain", 1), &generator)
        default: throw LayerError.badConfig(layer: "", "unknown initializer \(className)")
        }
    }

    private func varianceScaling(_ shape: [Int], _ scale: Float, _ mode: String, _ distribution: String,
                                 _ g: inout SeededGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        let n = mode == "fan_in" ? fanIn : mode == "fan_out" ? fanOut : (fanIn + fanOut) / 2
        let s = scale / Swift.max(1, n)
        switch distribution {
        case "uniform":
            let limit = Foundation.sqrt(3 * s)
            return .randomUniform(shape, minval: -limit, maxval: limit, generator: &g)
        case "untruncated_normal":
            return .randomNormal(shape, stddev: Foundation.sqrt(s), generator: &g)
        default:
            // 0.879... is the stddev of a unit normal truncated at ±2.
            return .truncatedNormal(shape, stddev: Foundation.sqrt(s) / 0.87962566103423978, generator: &g)
        }
    }

    /// Gram–Schmidt on a normal matrix of shape [prod(shape[:-1]), shape[-1]].
    private func orthogonal(_ shape: [Int], gain: Float, _ g: inout SeededGenerator) -> Tensor {
        let cols = shape.last ?? 1, rows = shape.dropLast().reduce(1, *)
        let (r, c) = (Swift.max(rows, cols), Swift.min(rows, cols))
        var m = Tensor.randomNormal([r, c], generator: &g).scalars
        for j in 0..<c {
            for k in 0..<j {
                var dot: Float = 0
                for i in 0..<r { dot += m[i * c + j] * m[i * c + k] }
                for i in 0..<r { m[i * c + j] -= dot * m[i * c + k] }
            }
            var norm: Float = 0
            for i in 0..<r { norm += m[i * c + j] * m[i * c + j] }
            norm = Foundation.sqrt(Swift.max(norm, 1e-12))
            for i in 0..<r { m[i * c + j] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * cols)
        for i in 0..<rows { for j in 0..<cols { out[i * cols + j] = gain * (rows >= cols ? m[i * c + j] : m[j * c + i]) } }
        return Tensor(shape: shape, scalars: out)
    }
}

extension Tensor {
    /// A copy with element `index` set to `value`.
    func setting(_ index: Int, _ value: Float) -> Tensor {
        var s = scalars
        s[index] = value
        return Tensor(shape: shape, scalars: s)
    }
}
