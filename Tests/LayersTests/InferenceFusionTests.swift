import XCTest
import Tensor
@testable import Layers

/// The functional executor fuses ZeroPadding → convolution → BatchNormalization
/// → ReLU chains at inference without gradients; the fused run must return
/// exactly what the layer-by-layer run returns.
final class InferenceFusionTests: XCTestCase {
    /// Every fusable pattern, and the cases that must not fuse: a tensor read
    /// twice, an Add whose other input is not computed yet, a model output
    /// inside a chain.
    func makeModel() throws -> Model {
        let x = Input(shape: [9, 9, 5])
        var a = try ZeroPadding2D(padding: [Margin(0, 1), Margin(0, 1)])(x)
        a = try DepthwiseConv2D(kernelSize: [3, 3], strides: [2], useBias: false)(a)
        a = try ReLU(maxValue: 6)(try BatchNormalization()(a))
        let b = try BatchNormalization()(try Conv2D(filters: 7, kernelSize: [1, 1], useBias: false)(a))
        let c = try Conv2D(filters: 7, kernelSize: [3, 3], padding: "same", activation: "relu")(a)
        let e = try ActivationLayer("relu")(try Add()([b, c])[0])
        let r = try BatchNormalization()(try Conv2D(filters: 7, kernelSize: [1, 1], useBias: false)(e))
        let s = try ReLU()(try Add()([e, r])[0])
        let f = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", activation: "relu6")(s)
        let f2 = try Conv2D(filters: 4, kernelSize: [1, 1])(f)
        let g = try BatchNormalization()(try Conv2D(filters: 3, kernelSize: [3, 3], strides: [2])(try BatchNormalization()(f2)))
        let h = try ActivationLayer("relu")(try BatchNormalization()(try DepthwiseConv2D(kernelSize: [3, 3], padding: "same")(g)))
        return try Model(inputs: [x], outputs: [h, g, f2])
    }

    func testFusedInferenceEqualsLayerByLayer() throws {
        let model = try makeModel()
        var generator = SeededGenerator(seed: 11)
        for w in model.weights {
            let low: Float = w.name.hasSuffix("moving_variance") ? 0.5 : -0.5
            try w.assign(Tensor.randomUniform(w.shape, minval: low, maxval: low + 1, generator: &generator))
        }
        let x = Tensor.randomUniform([2, 9, 9, 5], minval: -1, maxval: 1, generator: &generator)
        // Chains: padding → depthwise → BN → ReLU6; 1×1 conv → BN (its Add's other input comes later);
        // conv with ReLU; 1×1 conv → BN → Add → ReLU; conv with ReLU6; 1×1 conv whose output is also a
        // model output; strided conv → BN; depthwise → BN → ReLU.
        XCTAssertEqual(model.inferenceFusion.values.map { $0.absorbed.count }.sorted(), [0, 0, 0, 1, 1, 2, 3, 3])
        let layerByLayer = try model.callAsFunction([x], training: false)
        let fused = try model.predictOnBatch([x])
        XCTAssertEqual(fused.count, 3)
        XCTAssertEqual(fused.count, layerByLayer.count, "zipped lists differ in length")
        for (i, (a, b)) in zip(fused, layerByLayer).enumerated() {
            XCTAssertEqual(a, b, "output \(i)")
        }
    }

    /// Fused inference keeps a 3×3 kernel's Winograd transform between calls,
    /// and must redo it once the kernel changes.
    func testWinogradKernelFollowsWeightUpdates() throws {
        let x = Input(shape: [16, 16, 32])
        let conv = try Conv2D(filters: 16, kernelSize: [3, 3], padding: "same", activation: "relu")
        let model = try Model(inputs: [x], outputs: [try conv(x)])
        var generator = SeededGenerator(seed: 3)
        let input = Tensor.randomUniform([2, 16, 16, 32], minval: -1, maxval: 1, generator: &generator)
        let before = try model.predictOnBatch([input])[0]
        XCTAssertEqual(before, try model.callAsFunction([input], training: false)[0])
        try conv.kernel.assign(Tensor.randomUniform(conv.kernel.shape, minval: -1, maxval: 1, generator: &generator))
        let after = try model.predictOnBatch([input])[0]
        XCTAssertNotEqual(after, before)
        XCTAssertEqual(after, try model.callAsFunction([input], training: false)[0])
        try conv.kernel.update { values in values[0] += 1 }
        XCTAssertEqual(try model.predictOnBatch([input])[0], try model.callAsFunction([input], training: false)[0])
    }
}
