import XCTest
import Tensor
import Layers

/// Convolution layers against Keras (tools/gen_layer_fixtures_convolution.py),
/// plus the Swift initializers and bad input.
final class ConvolutionLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("convolution")
        XCTAssertGreaterThanOrEqual(names.count, 44)
        for name in names { try runLayerCase(try LayerCase(family: "convolution", name: name)) }
    }

    func testSwiftInitializerWritesKerasConfig() throws {
        let conv = try Conv2D(filters: 4, kernelSize: [3], strides: [2, 1], padding: "same", activation: "relu", name: "c")
        let y = try conv(Tensor.zeros([2, 5, 6, 3]))
        XCTAssertEqual(y.shape, [2, 3, 6, 4])
        XCTAssertEqual(conv.weights.map { $0.name }, ["c/kernel", "c/bias"])
        XCTAssertEqual(conv.weights.map { $0.shape }, [[3, 3, 3, 4], [4]])
        let c = conv.getConfig()
        XCTAssertEqual(c["kernel_size"], [3, 3])
        XCTAssertEqual(c["strides"], [2, 1])
        XCTAssertEqual(c["dilation_rate"], [1, 1])
        XCTAssertEqual(c["padding"], "same")
        XCTAssertEqual(c["data_format"], "channels_last")
        XCTAssertEqual(c["groups"], 1)
        XCTAssertEqual(c["kernel_regularizer"], .null)
        let again = try LayerRegistry.makeLayer(className: "Conv2D", config: LayerConfig(c))
        XCTAssertEqual(JSONValue.object(again.getConfig()), JSONValue.object(c))
    }

    func testSymbolicShapesKeepUnknownDimensions() throws {
        let conv = try Conv2D(filters: 4, kernelSize: [3], strides: [2], padding: "same")
        XCTAssertEqual(try conv.computeOutputShape([nil, nil, 7, 3]), [nil, nil, 4, 4])
        let transpose = try Conv1DTranspose(filters: 2, kernelSize: [3], strides: [2], outputPadding: [1])
        XCTAssertEqual(try transpose.computeOutputShape([nil, 5, 3]), [nil, 12, 2])
        let depthwise = try DepthwiseConv2D(kernelSize: [3], depthMultiplier: 3)
        XCTAssertEqual(try depthwise.computeOutputShape([nil, 5, nil, 2]), [nil, 3, nil, 6])
    }

    func testWrongInputRankNamesTheLayer() throws {
        let conv = try Conv2D(filters: 2, kernelSize: [3], name: "c2")
        XCTAssertThrowsError(try conv(Tensor.zeros([2, 5, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'c2': expects an input of rank 4, got shape (2, 5, 3)")
        }
    }

    func testChannelMismatchAfterBuild() throws {
        let conv = try SeparableConv1D(filters: 2, kernelSize: [3], name: "sep")
        _ = try conv(Tensor.zeros([1, 5, 3]))
        XCTAssertThrowsError(try conv(Tensor.zeros([1, 5, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'sep': expects an input of rank 3 with 3 channels, got shape [1, 5, 4]")
        }
    }

    func testWindowLargerThanInput() throws {
        let conv = try Conv1D(filters: 2, kernelSize: [3], dilationRate: [2], name: "c1")
        XCTAssertThrowsError(try conv(Tensor.zeros([1, 4, 1]))) { error in
            XCTAssertEqual("\(error)", "layer 'c1': a window of size 5 does not fit spatial axis 1 of the input (1, 4, 1) "
                           + "with 'valid' padding")
        }
        _ = try conv(Tensor.zeros([1, 6, 1]))
        XCTAssertThrowsError(try conv(Tensor.zeros([1, 3, 1])), "a later, smaller input is checked too") { error in
            XCTAssertEqual("\(error)", "layer 'c1': a window of size 5 does not fit spatial axis 1 of the input (1, 3, 1) "
                           + "with 'valid' padding")
        }
    }

    func testChannelsFirstIsRejected() {
        let config = LayerConfig(["name": "cf", "filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"])
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "Conv2D", config: config)) { error in
            XCTAssertEqual("\(error)", "layer 'cf': data_format 'channels_first' is not supported; only 'channels_last' is")
        }
    }

    func testBadPaddingStrings() throws {
        XCTAssertThrowsError(try Conv2D(filters: 2, kernelSize: [3], padding: "full", name: "p")) { error in
            XCTAssertEqual("\(error)", "layer 'p': config key 'padding' must be one of [\"valid\", \"same\"], got \"full\"")
        }
        XCTAssertThrowsError(try DepthwiseConv1D(kernelSize: [3], padding: "causal", name: "d")) { error in
            XCTAssertEqual("\(error)", "layer 'd': config key 'padding' must be one of [\"valid\", \"same\"], got \"causal\"")
        }
        XCTAssertEqual(try Conv1D(filters: 2, kernelSize: [3], padding: "CAUSAL").padding, .causal)
    }

    func testBadConfigValues() {
        XCTAssertThrowsError(try Conv2D(filters: 3, kernelSize: [3], groups: 2, name: "g")) { error in
            XCTAssertEqual("\(error)", "layer 'g': config key 'groups' must be a positive divisor of filters (3), got 2")
        }
        XCTAssertThrowsError(try Conv2D(filters: 2, kernelSize: [3], strides: [2], dilationRate: [2], name: "sd")) { error in
            XCTAssertEqual("\(error)", "layer 'sd': strides > 1 cannot be combined with dilation_rate > 1; "
                           + "got strides [2, 2] and dilation_rate [2, 2]")
        }
        XCTAssertThrowsError(try Conv2DTranspose(filters: 2, kernelSize: [3], strides: [2], outputPadding: [2], name: "op")) { error in
            XCTAssertEqual("\(error)", "layer 'op': config key 'output_padding' must be non-negative and smaller than "
                           + "strides [2, 2], got 2")
        }
        XCTAssertThrowsError(try Conv3D(filters: 2, kernelSize: [3, 0, 3], name: "k")) { error in
            XCTAssertEqual("\(error)", "layer 'k': config key 'kernel_size' must be positive integers, got [3, 0, 3]")
        }
        XCTAssertThrowsError(try Conv2D(filters: 2, kernelSize: [3, 3, 3], name: "k3")) { error in
            XCTAssertEqual("\(error)", "layer 'k3': config key 'kernel_size' must be an integer or 2 integers, got [3, 3, 3]")
        }
    }

    func testLoRAConfigIsRejected() {
        let config = LayerConfig(["name": "lora", "filters": 2, "kernel_size": [3], "lora_rank": 4])
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "Conv1D", config: config)) { error in
            XCTAssertEqual("\(error)", "layer 'lora': lora_rank is not supported (LoRA adapters)")
        }
    }

    func testGroupsMustDivideInputChannels() throws {
        let conv = try Conv1D(filters: 4, kernelSize: [1], groups: 2, name: "gc")
        XCTAssertThrowsError(try conv(Tensor.zeros([1, 3, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'gc': input channels (3) must be divisible by groups (2), got input shape (1, 3, 3)")
        }
    }
}
