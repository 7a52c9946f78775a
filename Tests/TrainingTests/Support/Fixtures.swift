import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// Golden files written by tools/gen_training_fixtures.py.
enum Fixture {
    static func url(_ path: String) throws -> URL {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("Fixtures") else {
            throw TensorError.io("no Fixtures resource bundle")
        }
        let u = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: u.path) else {
            throw TensorError.io("missing fixture \(path): run tools/gen_training_fixtures.py")
        }
        return u
    }

    static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: String(contentsOf: try url(path), encoding: .utf8))
    }

    static func npy(_ path: String) throws -> Tensor { try Tensor(npyFile: try url(path)) }
}

extension JSONValue {
    /// `{"shape": [...], "values": [...]}` as written by `array_json`.
    var tensor: Tensor {
        get throws {
            let shape = try XCTUnwrap(self["shape"]?.arrayValue).map { $0.intValue! }
            let values = try XCTUnwrap(self["values"]?.arrayValue).map { Float($0.doubleValue!) }
            return Tensor(shape: shape, scalars: values)
        }
    }

    /// The tensor, or nil for JSON null.
    var optionalTensor: Tensor? {
        get throws { isNull ? nil : try tensor }
    }

    /// The cases of a fixture file.
    var cases: [JSONValue] { self["cases"]?.arrayValue ?? [] }
    var name: String { self["name"]?.stringValue ?? "?" }
}

/// Asserts `|a − b| ≤ atol + rtol·|b|` elementwise, naming the worst element.
func assertClose(_ a: Tensor, _ b: Tensor, atol: Float = 1e-6, rtol: Float = 1e-5, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard a.shape == b.shape else {
        XCTFail("\(label): shape \(a.shape) vs expected \(b.shape)", file: file, line: line)
        return
    }
    let comparison = ElementComparison.absolute(a.scalars, b.scalars, atol: atol, rtol: rtol)
    if !comparison.passes {
        let i = comparison.firstOver
        XCTFail("\(label): element \(i) is \(a.scalars[i]), expected \(b.scalars[i]); \(comparison)", file: file, line: line)
    }
}

/// Whether two JSON values are equal, numbers compared by value (Keras writes
/// `0.0` where Swift may write `0`).
func jsonEquivalent(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)):
        return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { jsonEquivalent(x[$0]!, y[$0]!) }
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy { jsonEquivalent($0, $1) }
    default:
        if let p = a.doubleValue, let q = b.doubleValue { return p == q || (p.isNaN && q.isNaN) }
        return a == b
    }
}

/// Rebuilds a Keras 3 functional model from `model.get_config()` with the
/// layer registry (test-side; the KerasIO target owns the real reader).
func buildFunctional(_ config: JSONValue) throws -> Model {
    var produced: [String: [[KerasTensor]]] = [:]
    func reference(_ ref: JSONValue) throws -> KerasTensor {
        let a = try XCTUnwrap(ref.arrayValue)
        let (name, node, index) = (a[0].stringValue!, a[1].intValue!, a[2].intValue!)
        guard let nodes = produced[name], node < nodes.count, index < nodes[node].count else {
            throw LayerError.invalidGraph("no tensor \(name)[\(node)][\(index)] yet")
        }
        return nodes[node][index]
    }
    /// Keras tensors in call arguments, in order (lists of them for merge layers).
    func tensors(in args: JSONValue) throws -> [KerasTensor] {
        if args["class_name"]?.stringValue == "__keras_tensor__" {
            return [try reference(try XCTUnwrap(args["config"]?["keras_history"]))]
        }
        return try (args.arrayValue ?? []).flatMap { try tensors(in: $0) }
    }
    // Keras 3 ops in these configs only compute the masks the layers propagate themselves.
    for entry in try XCTUnwrap(config["layers"]?.arrayValue) where entry["module"]?.stringValue?.hasPrefix("keras.src.ops") != true {
        let className = try XCTUnwrap(entry["class_name"]?.stringValue)
        let layer = try LayerRegistry.makeLayer(className: className, config: LayerConfig(try XCTUnwrap(entry["config"]?.objectValue)))
        if let input = layer as? InputLayer {
            produced[input.name] = [[input.output]]
            continue
        }
        for node in entry["inbound_nodes"]?.arrayValue ?? [] {
            let outputs = try layer(try tensors(in: node["args"] ?? .null))
            produced[layer.name, default: []].append(outputs)
        }
    }
    func endpoints(_ key: String) throws -> [KerasTensor] {
        let refs = try XCTUnwrap(config[key]?.arrayValue)
        if refs.first?.stringValue != nil { return [try reference(.array(refs))] }
        return try refs.map(reference)
    }
    return try Model(inputs: try endpoints("input_layers"), outputs: try endpoints("output_layers"),
                     name: config["name"]?.stringValue)
}

/// The Keras class names of a functional config that no Swift layer implements yet.
func missingLayerClasses(_ config: JSONValue) -> [String] {
    (config["layers"]?.arrayValue ?? []).compactMap { $0["class_name"]?.stringValue }
        .filter { LayerRegistry.type(className: $0) == nil }
}
