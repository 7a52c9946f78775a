import Foundation
import XCTest
import Tensor
import Layers
import KerasIO

/// Video models written by real Keras (tools/gen_video_models.py,
/// `Fixtures/video`): a Conv3D network with (2+1)D convolutions, a
/// TimeDistributed CNN with LSTMs and with GRUs (both bias layouts),
/// Bidirectional RNNs of every kind and merge mode over per-frame features,
/// ConvLSTM2D, and TimeDistributed over nested models (a Sequential frame
/// encoder; a keras.applications MobileNetV2 backbone). Each is saved by Keras 3 (`.keras`, `.h5`) and by tf-keras
/// (`.h5`), and predicts what Keras predicted within `1e-4·(1+|y|)`.
final class VideoModelTests: XCTestCase {
    static let cases = ["conv3d_net", "td_cnn_lstm", "td_cnn_gru", "bidirectional", "conv_lstm", "td_nested_sequential",
                        "td_application"]

    func testConv3DNetwork() throws { try check("conv3d_net") }
    func testTimeDistributedCNNWithLSTM() throws { try check("td_cnn_lstm") }
    func testTimeDistributedCNNWithGRU() throws { try check("td_cnn_gru") }
    func testBidirectionalRNNs() throws { try check("bidirectional") }
    func testConvLSTM2D() throws { try check("conv_lstm") }
    func testTimeDistributedNestedSequential() throws { try check("td_nested_sequential") }
    func testTimeDistributedApplicationBackbone() throws { try check("td_application") }

    func testEveryGeneratedCaseIsTested() throws {
        let names = try Self.manifest().compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(Set(names.map { String($0.dropLast("_keras3".count)) }), Set(Self.cases))
        XCTAssertEqual(names.count, 2 * Self.cases.count, "one case per writer")
    }

    private static func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/video/\(stem)", withExtension: ext),
                             "missing fixture video/\(file); run tools/gen_video_models.py")
    }

    private static func manifest() throws -> [JSONValue] {
        let text = try String(contentsOf: try url("manifest.json"), encoding: .utf8)
        return try XCTUnwrap(try JSONValue(parsing: text)["cases"]?.arrayValue)
    }

    private func check(_ name: String) throws {
        let cases = try Self.manifest().filter { $0["name"]?.stringValue?.hasPrefix(name + "_keras") == true }
        XCTAssertEqual(cases.count, 2, "\(name): a Keras 3 and a tf-keras case")
        for c in cases {
            let stem = try XCTUnwrap(c["name"]?.stringValue)
            let input = try Tensor(npyFile: try Self.url(try XCTUnwrap(c["input"]?.stringValue)))
            let expected = try Tensor(npyFile: try Self.url(try XCTUnwrap(c["output"]?.stringValue)))
            for (key, file) in try XCTUnwrap(c["files"]?.objectValue) {
                let path = try Self.url(try XCTUnwrap(file.stringValue)).path
                let loaded = try KerasModelFile.load(path)
                XCTAssertEqual(loaded.kerasVersion, c["keras_version"]?.stringValue, "\(stem).\(key)")
                assertClose(try loaded.model.predictOnBatch([input]), [expected], "\(stem).\(key)")
            }
        }
    }
}
