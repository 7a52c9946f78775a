import Foundation
import TestSupport
import XCTest
import Tensor
import Layers
import KerasIO

/// The model fixtures of tools/gen_keras_io_fixtures.py (`Fixtures/models`).
enum ModelFixtures {
    /// Every case, by file stem: `<model>_keras3` (a `.keras`) and `<model>_keras2` (a tf-keras `.h5`).
    static let keras3 = ["dense_mlp", "conv_bn_pool", "conv_misc", "volume", "recurrent", "video",
                         "nested_multi_input", "shared_nested", "frozen_nested", "embedding", "merge_misc", "dict_io"].map { "\($0)_keras3" }
    static let keras2 = ["dense_mlp", "conv_bn_pool", "recurrent", "video", "nested_multi_input", "shared_nested",
                         "frozen_nested", "merge_misc"].map { "\($0)_keras2" }
    static var all: [String] { keras3 + keras2 }

    static func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/models/\(stem)", withExtension: ext), "missing fixture \(file)")
    }

    static func meta(_ name: String) throws -> JSONValue {
        try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
    }

    /// The model file Keras wrote for the case.
    static func modelURL(_ name: String) throws -> URL {
        try url(try XCTUnwrap(try meta(name)["file"]?.stringValue))
    }

    static func inputs(_ name: String) throws -> [Tensor] {
        try (0..<(try meta(name)["inputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).in\($0).npy")) }
    }

    /// Keras's prediction for ``inputs(_:)``.
    static func outputs(_ name: String) throws -> [Tensor] {
        try (0..<(try meta(name)["outputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).out\($0).npy")) }
    }
}

/// Asserts predictions within `1e-4·(1+|y|)` per element of the expected ones.
func assertClose(_ actual: [Tensor], _ expected: [Tensor], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): output count", file: file, line: line)
    guard actual.count == expected.count else { return }
    for (j, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(a.shape, e.shape, "\(what): output \(j) shape", file: file, line: line)
        let comparison = ElementComparison.absolute(a.scalars, e.scalars, atol: 1e-4, rtol: 1e-4)
        XCTAssertTrue(comparison.passes, "\(what): output \(j) differs from Keras: \(comparison)", file: file, line: line)
    }
}

/// The bit patterns of every weight, in `model.weights` order.
func weightBits(_ model: Model) -> [[UInt32]] {
    model.weights.map { $0.value.scalars.map(\.bitPattern) }
}

/// A fresh folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kerasio-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder
}

/// The files in `folder`, hidden ones included.
func filesIn(_ folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
}

/// Asserts that `body` throws a one-line `KerasIOError` starting with `prefix`.
func assertKerasIOError<T>(_ body: @autoclosure () throws -> T, startsWith prefix: String, contains part: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertTrue(error is KerasIOError, "not a KerasIOError: \(type(of: error)) \(error)", file: file, line: line)
        let text = "\(error)"
        XCTAssertTrue(text.hasPrefix(prefix), "\(text) does not start with \(prefix)", file: file, line: line)
        XCTAssertTrue(part.isEmpty || text.contains(part), "\(text) does not mention \(part)", file: file, line: line)
        XCTAssertFalse(text.contains("\n"), "not one line: \(text)", file: file, line: line)
    }
}

extension JSONValue {
    /// The element at `index` of an array value.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
