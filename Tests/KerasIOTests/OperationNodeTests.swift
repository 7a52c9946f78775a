import XCTest
import Tensor
import Layers
import KerasIO

/// Operations recorded in functional configs (Keras 3 ops with constant
/// arguments, tf-keras `TFOpLambda`) load as the equivalent layers. The
/// configs are Keras's own spellings, as keras.applications' MobileNetV3
/// (`hard_sigmoid` as `ReLU(6)(x + 3) * (1/6)`) and ConvNeXt (the residual
/// `+`) write them.
final class OperationNodeTests: XCTestCase {
    private func tensor(_ name: String, _ node: Int = 0) -> String {
        #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["\#(name)", \#(node), 0]}}"#
    }

    private func input(_ keras3: Bool) -> String {
        keras3 ? #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "float32", "name": "x"}, "name": "x", "inbound_nodes": []}"#
            : #"{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32", "name": "x"}, "name": "x", "inbound_nodes": []}"#
    }

    private func model(_ layers: [String], output: String) throws -> Model {
        let text = #"{"class_name": "Functional", "config": {"name": "m", "layers": [\#(layers.joined(separator: ", "))], "input_layers": [["x", 0, 0]], "output_layers": [["\#(output)", 0, 0]]}}"#
        return try ModelConfigReader(keras2: false).makeModel(try JSONValue(parsing: text), part: "model_config")
    }

    private let x = Tensor(shape: [2, 3], scalars: [-4, 0, 1.5, 2, -1, 7])

    /// hard_swish(x) = x · relu6(x + 3) / 6.
    private var hardSwish: [Float] { x.scalars.map { $0 * min(max($0 + 3, 0), 6) / 6 } }

    private func assertScalars(_ model: Model, _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) throws {
        let y = try model.predictOnBatch([x])[0]
        XCTAssertEqual(y.shape, x.shape, file: file, line: line)
        XCTAssertEqual(y.scalars.count, expected.count, "zipped lists differ in length", file: file, line: line)
        for (a, e) in zip(y.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6, file: file, line: line) }
    }

    func testKeras3OpsInAKerasArchiveConfig() throws {
        let m = try model([
            input(true),
            #"{"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"}, "registered_name": "Add", "name": "add", "inbound_nodes": [{"args": [\#(tensor("x")), 3.0], "kwargs": {}}]}"#,
            #"{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "re_lu", "trainable": true, "dtype": "float32", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, "name": "re_lu", "inbound_nodes": [{"args": [\#(tensor("add"))], "kwargs": {}}]}"#,
            #"{"module": "keras.src.ops.numpy", "class_name": "Multiply", "config": {"name": "multiply"}, "registered_name": "Multiply", "name": "multiply", "inbound_nodes": [{"args": [\#(tensor("re_lu")), 0.16666666666666666], "kwargs": {}}]}"#,
            #"{"module": "keras.layers", "class_name": "Multiply", "config": {"name": "mul", "trainable": true, "dtype": "float32"}, "name": "mul", "inbound_nodes": [{"args": [[\#(tensor("x")), \#(tensor("multiply"))]], "kwargs": {}}]}"#,
        ], output: "mul")
        try assertScalars(m, hardSwish)
        XCTAssertTrue(m.layers.contains { $0 is Rescaling }, "x + 3 becomes a Rescaling layer both Keras versions load")
    }

    func testKeras3OpsInALegacyConfigWithoutModule() throws {
        // Keras 3's `.h5` drops `module`; the op's config has no `trainable`.
        let m = try model([
            input(true),
            #"{"class_name": "Subtract", "config": {"name": "subtract"}, "name": "subtract", "inbound_nodes": [{"args": [2.0, \#(tensor("x"))], "kwargs": {}}]}"#,
            #"{"class_name": "TrueDivide", "config": {"name": "true_divide"}, "name": "true_divide", "inbound_nodes": [{"args": [\#(tensor("subtract")), 4.0], "kwargs": {}}]}"#,
            #"{"class_name": "Add", "config": {"name": "add"}, "name": "add", "inbound_nodes": [{"args": [\#(tensor("true_divide")), \#(tensor("x"))], "kwargs": {}}]}"#,
        ], output: "add")
        try assertScalars(m, x.scalars.map { (2 - $0) / 4 + $0 })
    }

    func testTFOpLambdaFromTFKeras() throws {
        // tf-keras writes a call on one tensor as the flat reference itself, with `y` among its keyword arguments.
        let m = try ModelConfigReader(keras2: true).makeModel(try JSONValue(parsing: #"""
            {"class_name": "Functional", "config": {"name": "m", "layers": [\#(input(false)),
             {"class_name": "TFOpLambda", "config": {"name": "tf.__operators__.add", "trainable": true, "dtype": "float32", "function": "__operators__.add"}, "name": "tf.__operators__.add", "inbound_nodes": [["x", 0, 0, {"y": 3.0, "name": null}]]},
             {"class_name": "ReLU", "config": {"name": "re_lu", "trainable": true, "dtype": "float32", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, "name": "re_lu", "inbound_nodes": [[["tf.__operators__.add", 0, 0, {}]]]},
             {"class_name": "TFOpLambda", "config": {"name": "tf.math.multiply", "trainable": true, "dtype": "float32", "function": "math.multiply"}, "name": "tf.math.multiply", "inbound_nodes": [["re_lu", 0, 0, {"y": 0.16666666666666666, "name": null}]]},
             {"class_name": "TFOpLambda", "config": {"name": "tf.math.multiply_1", "trainable": true, "dtype": "float32", "function": "math.multiply"}, "name": "tf.math.multiply_1", "inbound_nodes": [["x", 0, 0, {"y": ["tf.math.multiply", 0, 0], "name": null}]]}],
             "input_layers": [["x", 0, 0]], "output_layers": [["tf.math.multiply_1", 0, 0]]}}
            """#), part: "model_config")
        try assertScalars(m, hardSwish)
    }

    func testUnsupportedOperationsAreClearErrors() throws {
        XCTAssertThrowsError(try model([
            input(true),
            #"{"module": "keras.src.ops.numpy", "class_name": "Sort", "config": {"name": "sort", "axis": 1}, "registered_name": "Sort", "name": "sort", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#,
        ], output: "sort")) { error in
            XCTAssertEqual("\(error)", "layer 'sort': the Keras operation keras.src.ops.numpy.Sort is not supported")
        }
        XCTAssertThrowsError(try model([
            input(true),
            #"{"class_name": "TFOpLambda", "config": {"name": "tf.sort", "function": "sort"}, "name": "tf.sort", "inbound_nodes": [["x", 0, 0, {"axis": 1}]]}"#,
        ], output: "tf.sort")) { error in
            XCTAssertTrue("\(error)".hasPrefix("layer 'tf.sort': the TensorFlow operation tf.sort (TFOpLambda) is not supported"),
                          "\(error)")
        }
    }
}

/// Models saved by Keras 3 (`.keras`, `.h5`) and tf-keras (`.h5`) that call
/// `keras.ops` / TensorFlow functions on symbolic tensors (tools/gen_operation_fixtures.py).
final class KerasWrittenOperationTests: XCTestCase {
    private func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/operations/\(stem)", withExtension: ext), "missing fixture \(file)")
    }

    private func check(_ name: String) throws -> Model {
        let meta = try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
        let model = try KerasModelFile.load(try url(try XCTUnwrap(meta["file"]?.stringValue)).path).model
        let inputs = try (0..<(meta["inputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).in\($0).npy")) }
        let expected = try (0..<(meta["outputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).out\($0).npy")) }
        assertClose(try model.predictOnBatch(inputs), expected, name)
        return model
    }

    func testKeras3Archive() throws {
        let model = try check("ops_keras3")
        XCTAssertTrue(model.layers.contains { $0 is Permute } && model.layers.contains { $0 is Reshape }
                      && model.layers.contains { $0 is Concatenate }, "portable layers where Keras has one")
        // Written back as the same Keras 3 op nodes and read again.
        let folder = try temporaryFolder(self)
        let file = folder.appendingPathComponent("ops.keras")
        try KerasModelFile.save(model, to: file.path)
        let again = try KerasModelFile.load(file.path).model
        let inputs = try (0..<2).map { try Tensor(npyFile: try url("ops_keras3.in\($0).npy")) }
        assertClose(try again.predictOnBatch(inputs), try model.predictOnBatch(inputs), "ops_keras3 round trip")
    }

    func testKeras3LegacyH5() throws {
        let model = try check("ops_keras3_h5")
        let file = try temporaryFolder(self).appendingPathComponent("ops.h5")
        // tf-keras has no layer for these ops, so a legacy file is refused rather than written unloadable.
        assertKerasIOError(try KerasModelFile.save(model, to: file.path), startsWith: "",
                           contains: "the Keras operation keras.src.ops.numpy.ExpandDims can only be saved in a functional model of a .keras archive")
    }

    func testTFKerasH5() throws { _ = try check("ops_keras2") }

    func testUnsupportedOperationNamesLayerAndOp() throws {
        assertKerasIOError(try KerasModelFile.load(try url("unsupported_keras3.keras").path),
                           startsWith: "", contains: "layer 'sort': the Keras operation keras.src.ops.numpy.Sort is not supported")
    }
}
