import XCTest
import Tensor
import Layers

/// Configs from hostile files: absurd sizes and shapes give a `LayerError`,
/// never an arithmetic-overflow trap or a gigantic allocation.
final class HostileConfigTests: XCTestCase {
    private func assertLayerError(_ body: @autoclosure () throws -> Any, _ contains: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is LayerError, "\(type(of: error)): \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(contains), "\(error) does not mention \(contains)", file: file, line: line)
        }
    }

    func testSizesBeyond2To31AreRefused() throws {
        assertLayerError(try Dense(config: LayerConfig(["name": "d", "units": .int(1 << 40)])), "'units' must be an integer of magnitude at most 2^31")
        assertLayerError(try Conv2D(config: LayerConfig(["name": "c", "filters": 2, "kernel_size": 3, "dilation_rate": .int(Int.max)])),
                         "dilation_rate")
        assertLayerError(try InputLayer(config: LayerConfig(["name": "x", "batch_shape": [nil, .int(1 << 62)]])), "batch_shape")
        // Seeds are not sizes.
        XCTAssertNoThrow(try Dropout(config: LayerConfig(["name": "drop", "rate": 0.5, "seed": .int(1 << 40)])))
    }

    func testShapesThatGrowPast2To31AreRefused() throws {
        let x = InputLayer(batchShape: [nil, 1 << 30, 4], name: "x")
        assertLayerError(try UpSampling1D(size: 1 << 20, name: "up")(x.output), "with a dimension outside 0…2^31")
        let big = InputLayer(batchShape: [nil, 1 << 31, 1 << 31, 1 << 31], name: "big")
        assertLayerError(try Flatten(name: "flat")(big.output), "flat")
        assertLayerError(try Reshape(targetShape: [0, -1], name: "r")(InputLayer(batchShape: [nil, 6]).output), "target_shape")
    }

    func testPlaceholderWeightsStayWithinTheFilesBudget() throws {
        let dense = try Dense(units: 1000, name: "wide")
        assertLayerError(try RandomState.withPlaceholderWeights(maxValues: 5000) { try dense.buildIfNeeded([[nil, 10]]) },
                         "more values than the file holds")
        let small = try Dense(units: 10, name: "small")
        try RandomState.withPlaceholderWeights(maxValues: 5000) { try small.buildIfNeeded([[nil, 10]]) }
        XCTAssertEqual(small.weights.map(\.value.scalars), [[Float](repeating: 0, count: 100), [Float](repeating: 0, count: 10)],
                       "placeholders are zeros, no initializer ran")
    }
}
