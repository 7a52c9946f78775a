import Foundation
import XCTest
import Tensor

/// One case of `Fixtures/conv/cases.json`, written by tools/gen_conv_fixtures.py.
struct ConvFixtureCase: Decodable {
    let op: String
    let padding: String
    let strides: [Int]
    let dilation: [Int]?
    let poolSize: [Int]?
    let outputPadding: [Int]?

    /// All cases by name.
    static func all() throws -> [String: ConvFixtureCase] {
        guard let url = Bundle.module.url(forResource: "Fixtures/conv/cases", withExtension: "json") else {
            throw TensorError.io("missing Fixtures/conv/cases.json: run tools/gen_conv_fixtures.py")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([String: ConvFixtureCase].self, from: Data(contentsOf: url))
    }

    /// Applies the case's op as the Swift API spells it.
    func apply(_ x: Tensor, _ k: Tensor?) throws -> Tensor {
        let padding = try Padding(keras: self.padding)
        switch op {
        case "conv":
            let k = k!
            return try Tensor.conv(x, k, strides: strides, padding: padding, dilation: dilation ?? [1],
                                   groups: x.shape.last! / k.shape[k.rank - 2])
        case "depthwise":
            return try Tensor.depthwiseConv(x, k!, strides: strides, padding: padding, dilation: dilation ?? [1])
        case "conv_transpose":
            return try Tensor.convTranspose(x, k!, strides: strides, padding: padding, outputPadding: outputPadding,
                                            dilation: dilation ?? [1])
        case "max_pool":
            return try Tensor.maxPool(x, poolSize: poolSize!, strides: strides, padding: padding)
        case "average_pool":
            return try Tensor.averagePool(x, poolSize: poolSize!, strides: strides, padding: padding)
        default:
            throw TensorError.invalidArgument("unknown fixture op \(op)")
        }
    }
}

/// Forward values and both gradients of every convolution and pooling op
/// against TensorFlow (Keras ops, TF backend, `tf.GradientTape`).
final class ConvolutionFixtureTests: XCTestCase {
    /// Runs every fixture case of `op`: output within 1e-5 + 1e-5·|y|, input
    /// and kernel gradients of sum(output · projection) within 1e-4.
    private func runCases(_ op: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try ConvFixtureCase.all().filter { $0.value.op == op }.sorted { $0.key < $1.key }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for \(op)", file: file, line: line)
        for (name, spec) in cases {
            let x = try fixture("conv/\(name)_x")
            let k = spec.poolSize == nil ? try fixture("conv/\(name)_k") : nil
            let tape = GradientTape()
            let xs = tape.watch(x)
            let ks = k.map { tape.watch($0) }
            let y = try spec.apply(xs, ks)
            assertClose(y, try fixture("conv/\(name)_y"), atol: 1e-5, rtol: 1e-5, "\(name): output",
                        file: file, line: line)
            let grads = try tape.gradient(of: y, wrt: [xs] + (ks.map { [$0] } ?? []),
                                          outputGradient: try fixture("conv/\(name)_proj"))
            guard let dx = grads[0] else {
                XCTFail("\(name): no input gradient", file: file, line: line)
                continue
            }
            assertClose(dx, try fixture("conv/\(name)_dx"), atol: 1e-4, rtol: 1e-4, "\(name): input gradient",
                        file: file, line: line)
            if ks != nil {
                guard let dk = grads[1] else {
                    XCTFail("\(name): no kernel gradient", file: file, line: line)
                    continue
                }
                assertClose(dk, try fixture("conv/\(name)_dk"), atol: 1e-4, rtol: 1e-4, "\(name): kernel gradient",
                            file: file, line: line)
            }
        }
    }

    func testConvolutionMatchesTensorFlow() throws { try runCases("conv") }
    func testDepthwiseConvolutionMatchesTensorFlow() throws { try runCases("depthwise") }
    func testTransposedConvolutionMatchesTensorFlow() throws { try runCases("conv_transpose") }
    func testMaxPoolingMatchesTensorFlow() throws { try runCases("max_pool") }
    func testAveragePoolingMatchesTensorFlow() throws { try runCases("average_pool") }
}
