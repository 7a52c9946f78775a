import Foundation
import XCTest
import Tensor
import Layers
import KerasIO

/// A Sequential of random augmentation layers and a Conv2D saved by real Keras
/// (tools/gen_layer_fixtures_preprocessing.py, `Fixtures/augmentation`): each
/// file loads and predicts as Keras does, the augmentation being the identity.
final class AugmentationModelTests: XCTestCase {
    static let cases = ["augmented_cnn_keras3_keras", "augmented_cnn_keras3_h5", "augmented_cnn_keras2_h5"]

    private func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/augmentation/\(stem)", withExtension: ext), "missing fixture \(file)")
    }

    func testKerasWrittenAugmentationModelsPredictAsKeras() throws {
        for name in Self.cases {
            let meta = try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
            let loaded = try KerasModelFile.load(try url(try XCTUnwrap(meta["file"]?.stringValue)).path)
            XCTAssertEqual(loaded.kerasVersion, meta["keras_version"]?.stringValue, name)
            let classes = (meta["layers"]?.arrayValue ?? []).compactMap { $0.stringValue }
            XCTAssertEqual(loaded.model.layers.map { type(of: $0).className }, classes, name)
            XCTAssertTrue(classes.contains("RandomFlip") && classes.contains("RandomTranslation"), name)
            let x = try Tensor(npyFile: try url("\(name).in0.npy"))
            assertClose(try loaded.model.predictOnBatch([x]), [try Tensor(npyFile: try url("\(name).out0.npy"))], name)
        }
    }
}
