import XCTest
import Tensor
import Layers
import KerasIO

/// Full models saved as legacy `.h5` by Keras 3 and tf-keras load and predict
/// what Keras predicted (tools/gen_keras_io_fixtures.py).
final class LegacyH5Tests: XCTestCase {
    func url(_ file: String, _ ext: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/configs/\(file)", withExtension: ext), "missing fixture \(file).\(ext)")
    }

    func check(_ name: String) throws {
        let loaded = try KerasModelFile.load(try url(name, "h5").path)
        XCTAssertEqual(loaded.format, .legacyModel)
        let meta = try JSONValue(parsing: String(contentsOf: try url(name, "json"), encoding: .utf8))
        XCTAssertEqual(loaded.kerasVersion, meta["keras_version"]?.stringValue)
        let inputs = try (0..<(meta["inputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).in\($0)", "npy")) }
        let outputs = try loaded.model.predictOnBatch(inputs)
        for (j, y) in outputs.enumerated() {
            let expected = try Tensor(npyFile: try url("\(name).out\(j)", "npy"))
            XCTAssertEqual(y.shape, expected.shape, name)
            XCTAssertEqual(y.scalars.count, expected.scalars.count, "zipped lists differ in length")
            for (a, e) in zip(y.scalars, expected.scalars) { XCTAssertEqual(a, e, accuracy: 1e-4 * (1 + abs(e)), "\(name) output \(j)") }
        }
    }

    func testEveryCase() throws {
        for name in ["nested_keras3", "nested_keras2", "multi_io_keras3", "multi_io_keras2",
                     "sequential_without_input_keras3", "sequential_without_input_keras2"] {
            try check(name)
        }
    }

    func testTruncatedAndForeignFilesGiveOneLineErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kio-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: try url("nested_keras2", "h5"))
        let truncated = dir.appendingPathComponent("cut.h5")
        try data.prefix(data.count / 2).write(to: truncated)
        XCTAssertThrowsError(try KerasModelFile.load(truncated.path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(truncated.path + ": "), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        let text = dir.appendingPathComponent("notes.h5")
        try Data("hello".utf8).write(to: text)
        XCTAssertThrowsError(try KerasModelFile.load(text.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(text.path + ": not a Keras file"), "\(error)")
        }
        XCTAssertThrowsError(try KerasModelFile.load(dir.appendingPathComponent("missing.h5").path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("missing.h5: no such file"), "\(error)")
        }
    }
}
