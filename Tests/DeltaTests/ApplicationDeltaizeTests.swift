import Foundation
import XCTest
import Tensor
@testable import Layers
import KerasIO
import Delta

/// `deltaize` on every keras.applications family of the coverage suite
/// (tools/gen_application_models.py; Keras 3's files, tf-keras's for RegNet): it succeeds, and at a
/// tiny threshold the delta model predicts what Keras predicted within
/// `1e-4·(1+|y|)`. ResNet50's and MobileNetV2's placements are checked
/// against counts derived by hand below.
final class ApplicationDeltaizeTests: XCTestCase {
    private func deltaizeAndCompare(_ architecture: String) throws -> DeltaizedModel {
        let (model, input, output) = try loadApplication(architecture)
        var options = DeltaizeOptions()
        options.thresholdInit = 1e-6
        options.clipLength = input.shape[0]
        let result = try deltaize(model, options: options)
        XCTAssertFalse(result.placements.isEmpty, architecture)
        assertNear(try result.model.predictOnBatch([input])[0], output, tolerance: 1e-4, "\(architecture) deltaized")
        return result
    }

    /// keras.applications ResNet50 at 32×32 (Keras 3 `resnet.py`, `residual_block_v1`), 5 classes:
    /// - the input reaches conv1_conv (7×7, 64, stride 2) through conv1_pad: 49·64/4 = 784;
    /// - conv1_relu reaches conv2_block1_0_conv (1×1, 256) and _1_conv (1×1, 64) through the
    ///   3×3 stride-2 max pool (1 element in 4): (256 + 64)/4 = 80;
    /// - in each block with F filters, _1_relu feeds _2_conv (3×3, F): 9F; _2_relu feeds _3_conv (1×1, 4F): 4F;
    /// - each block's _out relu feeds the next block: its _1_conv (1×1, F) = F within a stack; at a
    ///   stack change to F' filters, _0_conv (1×1, 4F', stride 2) and _1_conv (1×1, F', stride 2):
    ///   (4F' + F')/4; the last one reaches the Dense (5 units) through global pooling over 1×1: 5.
    /// Stacks: conv2 3 blocks F=64, conv3 4 blocks F=128, conv4 6 blocks F=256, conv5 3 blocks F=512.
    /// 1 + 1 + 16·3 = 50 delta layers.
    func testResNet50PlacementsByHand() throws {
        var expected: [(String, Double)] = [("input_layer", 784), ("conv1_relu", 80)]
        let stacks = [(2, 3, 64.0), (3, 4, 128.0), (4, 6, 256.0), (5, 3, 512.0)]
        for (s, (stack, blocks, f)) in stacks.enumerated() {
            for b in 1...blocks {
                let name = "conv\(stack)_block\(b)"
                expected += [("\(name)_1_relu", 9 * f), ("\(name)_2_relu", 4 * f)]
                if b < blocks {
                    expected.append(("\(name)_out", f))
                } else if s + 1 < stacks.count {
                    let next = stacks[s + 1].2
                    expected.append(("\(name)_out", (4 * next + next) / 4))
                } else {
                    expected.append(("\(name)_out", 5))
                }
            }
        }
        XCTAssertEqual(expected.count, 50)
        let result = try deltaizeAndCompare("resnet50")
        XCTAssertEqual(result.placements.map { $0.after }, expected.map { $0.0 })
        XCTAssertEqual(result.placements.map { $0.fanOut }, expected.map { $0.1 })
    }

    /// keras.applications MobileNetV2(alpha=0.35) at 32×32 (Keras 3 `mobilenet_v2.py`), 5 classes.
    /// Output channels are `_make_divisible(filters·0.35, 8)`: 16 for the stem, then per block 0–16:
    /// 8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112; blocks 1, 3, 6 and 13 have stride 2.
    /// - the input reaches Conv1 (3×3, 16, stride 2): 9·16/4 = 36;
    /// - Conv1_relu reaches expanded_conv_depthwise (3×3, multiplier 1): 9;
    /// - each depthwise relu reaches its block's project conv (1×1, out channels): out channels;
    /// - each expand relu (blocks 1–16) reaches its depthwise (3×3): 9, or 9/4 with stride 2;
    /// - out_relu reaches the Dense (5 units) through global pooling over 1×1: 5.
    /// The linear bottleneck outputs (project → BN → Add) reach convs with no non-linearity between: no delta.
    /// 1 + 1 + 1 + 16·2 + 1 = 36 delta layers.
    func testMobileNetV2PlacementsByHand() throws {
        let out = [8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112]
        let strided: Set = [1, 3, 6, 13]
        var expected: [(String, Double)] = [("input_layer", 36), ("Conv1_relu", 9), ("expanded_conv_depthwise_relu", 8)]
        for b in 1...16 {
            expected += [("block_\(b)_expand_relu", strided.contains(b) ? 9.0 / 4 : 9), ("block_\(b)_depthwise_relu", Double(out[b]))]
        }
        expected.append(("out_relu", 5))
        XCTAssertEqual(expected.count, 36)
        let result = try deltaizeAndCompare("mobilenetv2")
        XCTAssertEqual(result.placements.map { $0.after }, expected.map { $0.0 })
        XCTAssertEqual(result.placements.map { $0.fanOut }, expected.map { $0.1 })
        // Every delta layer but the input's is quantized inside a fused convolution epilogue at inference.
        let fused = Set(result.model.inferenceFusion.values.compactMap { $0.delta?.name })
        XCTAssertEqual(fused, Set(result.placements.dropFirst().map { $0.name }))
    }

    func testResNet50V2() throws { _ = try deltaizeAndCompare("resnet50v2") }
    func testMobileNet() throws { _ = try deltaizeAndCompare("mobilenet") }
    func testMobileNetV3Small() throws { _ = try deltaizeAndCompare("mobilenetv3small") }
    func testMobileNetV3Large() throws { _ = try deltaizeAndCompare("mobilenetv3large") }
    func testEfficientNetB0() throws { _ = try deltaizeAndCompare("efficientnetb0") }
    func testEfficientNetV2B0() throws { _ = try deltaizeAndCompare("efficientnetv2b0") }
    func testDenseNet121() throws { _ = try deltaizeAndCompare("densenet121") }
    func testInceptionV3() throws { _ = try deltaizeAndCompare("inceptionv3") }
    func testInceptionResNetV2() throws { _ = try deltaizeAndCompare("inceptionresnetv2") }
    func testXception() throws { _ = try deltaizeAndCompare("xception") }
    func testNASNetMobile() throws { _ = try deltaizeAndCompare("nasnetmobile") }
    func testVGG16() throws { _ = try deltaizeAndCompare("vgg16") }
    func testConvNeXtTiny() throws { _ = try deltaizeAndCompare("convnexttiny") }
    func testRegNetX002() throws { _ = try deltaizeAndCompare("regnetx002") }
}
