import Tensor

/// `keras.layers.EinsumDense`: `activation(einsum(equation, x, kernel) + bias)`.
///
/// The equation has the forms Keras accepts: `"ab,bc->ac"`, `"...b,bc->...c"`
/// (axes elided on the left) or `"ab...,bc->ac..."` (on the right). The kernel's
/// shape follows from the equation, the input shape and `output_shape` (the
/// output without the batch axis; `nil` where the size comes from the input).
/// `bias_axes` names the output axes that get a bias.
///
/// ```swift
/// let layer = try EinsumDense(equation: "abc,cd->abd", outputShape: [nil, 64], biasAxes: "d")
/// ```
public final class EinsumDense: UnaryLayer {
    public let equation: String
    /// The output shape without the batch axis, as configured.
    public let partialOutputShape: Shape
    public let biasAxes: String?
    public var activation: ActivationFunction
    public var kernelOptions: WeightOptions
    public var biasOptions: WeightOptions
    public private(set) var kernel: Variable!
    public private(set) var bias: Variable?
    private let spec: EinsumSpec

    public convenience init(equation: String, outputShape: Shape, activation: String = "linear", biasAxes: String? = nil,
                            kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "equation": .string(equation), "output_shape": JSONValue(shape: outputShape), "activation": .string(activation),
            "bias_axes": biasAxes.map { .string($0) } ?? .null,
            "kernel_initializer": kernelInitializer.json, "bias_initializer": biasInitializer.json,
        ]))
    }

    public required init(config: LayerConfig) throws {
        equation = try config.string("equation")
        guard let spec = EinsumSpec(equation) else {
            throw config.fail("equation", "of the form 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'")
        }
        self.spec = spec
        if let n = config["output_shape"]?.intValue { partialOutputShape = [n] } else {
            partialOutputShape = try config.shape("output_shape")
        }
        biasAxes = config.has("bias_axes") ? try config.string("bias_axes") : nil
        activation = try ActivationFunction(config: config)
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        biasOptions = try WeightOptions(config: config, prefix: "bias", defaultInitializer: .zeros)
        if config.has("lora_rank") { throw config.fail("lora_rank", "null (LoRA kernels are not supported)") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["equation"] = .string(equation)
        c["output_shape"] = JSONValue(shape: partialOutputShape)
        c["bias_axes"] = biasAxes.map { .string($0) } ?? .null
        c["activation"] = .string(activation.name)
        kernelOptions.write(to: &c, prefix: "kernel")
        biasOptions.write(to: &c, prefix: "bias")
        return c
    }

    public override func build(inputShape: Shape) throws {
        let plan = try spec.plan(inputShape: inputShape, outputShape: partialOutputShape, biasAxes: biasAxes, layer: name)
        kernel = try addWeight(name: "kernel", shape: plan.kernelShape, initializer: kernelOptions.initializer,
                               regularizer: kernelOptions.regularizer, constraint: kernelOptions.constraint)
        if let biasShape = plan.biasShape {
            bias = try addWeight(name: "bias", shape: biasShape, initializer: biasOptions.initializer,
                                 regularizer: biasOptions.regularizer, constraint: biasOptions.constraint)
        }
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try spec.plan(inputShape: inputShape, outputShape: partialOutputShape, biasAxes: biasAxes, layer: name).outputShape
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let plan = try spec.plan(inputShape: x.shape.map { Optional($0) }, outputShape: partialOutputShape, biasAxes: biasAxes,
                                 layer: name)
        guard plan.kernelShape == kernel.shape else {
            throw LayerError.shapeMismatch(layer: name, "input shape \(x.shape) needs a kernel of shape \(plan.kernelShape), "
                                           + "the layer has \(kernel.shape)")
        }
        var y = try Tensor.einsum(x, plan.inputLabels, kernel.read(), spec.weight, output: plan.outputLabels)
        if let bias { y = try y + bias.read() }
        return try activation(y)
    }
}

/// A parsed EinsumDense equation: the input, weight and output labels and where `...` stands.
struct EinsumSpec {
    enum Ellipsis { case none, left, right }
    let input: [Character], weight: [Character], output: [Character]
    let ellipsis: Ellipsis

    /// Parses the three forms Keras accepts, or returns nil.
    init?(_ equation: String) {
        let parts = equation.replacingOccurrences(of: "...", with: "0").components(separatedBy: "->")
        let operands = parts.first?.components(separatedBy: ",") ?? []
        guard parts.count == 2, operands.count == 2 else { return nil }
        var (x, w, out) = (Array(operands[0]), Array(operands[1]), Array(parts[1]))
        if x.first == "0" && out.first == "0" {
            ellipsis = .left
            x.removeFirst(); out.removeFirst()
        } else if x.last == "0" && out.last == "0" && x.count > 2 {
            ellipsis = .right
            x.removeLast(); out.removeLast()
        } else {
            ellipsis = .none
        }
        let letters = { (s: [Character]) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isLetter } }
        guard letters(x), letters(w), letters(out), Set(x).count == x.count, Set(w).count == w.count,
              Set(out).count == out.count else { return nil }
        (input, weight, output) = (x, w, out)
    }

    /// The kernel and bias shapes, the full output shape, and the labels with
    /// the elided axes spelled out, for an input of `inputShape`
    /// (`_analyze_split_string` in Keras).
    struct Plan {
        var kernelShape: [Int], biasShape: [Int]?, outputShape: Shape
        var inputLabels: [Character], outputLabels: [Character]
    }

    func plan(inputShape: Shape, outputShape partial: Shape, biasAxes: String?, layer: String) throws -> Plan {
        func fail(_ m: String) -> LayerError { .shapeMismatch(layer: layer, m) }
        let elided = inputShape.count - input.count
        guard elided >= 0, elided == 0 || ellipsis != .none else {
            throw fail("input shape \(formatShape(inputShape)) does not have the \(input.count) axes of the equation")
        }
        // output_shape excludes the batch axis, which a left `...` covers.
        guard partial.count == output.count - (ellipsis == .left ? 0 : 1) else {
            throw fail("output_shape \(formatShape(partial)) does not fit the output spec '\(String(output))'")
        }
        // Elided axes get labels the equation does not use.
        let used = Set(input + weight + output)
        let extra = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".filter { !used.contains($0) }.prefix(elided))
        let elidedShape = ellipsis == .left ? Array(inputShape[..<elided]) : Array(inputShape[input.count...])
        let inputLabels = ellipsis == .left ? extra + input : input + extra
        let outputLabels = ellipsis == .left ? extra + output : output + extra
        var outputShape = ellipsis == .left ? elidedShape + partial : [inputShape[0]] + partial + elidedShape

        let inputIndex = Dictionary(uniqueKeysWithValues: inputLabels.enumerated().map { ($1, $0) })
        let outputIndex = Dictionary(uniqueKeysWithValues: outputLabels.enumerated().map { ($1, $0) })
        for (label, i) in inputIndex {
            guard let o = outputIndex[label] else { continue }
            if let size = outputShape[o], size != inputShape[i] ?? size {
                throw fail("input and output shapes differ on shared axis '\(label)': \(formatShape(inputShape)) vs \(formatShape(outputShape))")
            }
            outputShape[o] = inputShape[i] ?? outputShape[o]
        }
        for label in output where !inputLabels.contains(label) && !weight.contains(label) {
            throw fail("output axis '\(label)' appears in neither the input nor the weight spec")
        }
        let kernelShape = try weight.map { label -> Int in
            guard let size = outputIndex[label].map({ outputShape[$0] }) ?? inputIndex[label].map({ inputShape[$0] }) else {
                throw fail("weight axis '\(label)' appears in neither the input nor the output spec")
            }
            guard let size else { throw fail("the size of weight axis '\(label)' is unknown for input shape \(formatShape(inputShape))") }
            return size
        }
        var biasShape: [Int]?
        if let biasAxes {
            guard let first = output.firstIndex(where: { biasAxes.contains($0) }), biasAxes.allSatisfy(output.contains) else {
                throw LayerError.badConfig(layer: layer, "bias_axes '\(biasAxes)' must be axes of the output spec '\(String(output))'")
            }
            let offset = ellipsis == .left ? elided : 0
            biasShape = try output[first...].enumerated().map { i, label in
                guard biasAxes.contains(label) else { return 1 }
                guard let size = outputShape[first + i + offset] else { throw fail("the size of bias axis '\(label)' is unknown") }
                return size
            }
            if ellipsis == .right { biasShape! += [Int](repeating: 1, count: elided) }
        }
        return Plan(kernelShape: kernelShape, biasShape: biasShape, outputShape: outputShape,
                    inputLabels: inputLabels, outputLabels: outputLabels)
    }
}

extension Tensor {
    /// `einsum` of two operands whose labels do not repeat within an operand:
    /// axes in both operands and the output are batched, axes in both operands
    /// only are contracted, and axes in one operand only are summed first.
    /// Computed as transposes, reshapes and one (batched) matmul.
    static func einsum(_ a: Tensor, _ aLabels: [Character], _ b: Tensor, _ bLabels: [Character],
                       output: [Character]) throws -> Tensor {
        func summedOut(_ t: Tensor, _ labels: [Character], _ other: [Character]) throws -> (Tensor, [Character]) {
            let drop = labels.indices.filter { !other.contains(labels[$0]) && !output.contains(labels[$0]) }
            return drop.isEmpty ? (t, labels) : (try t.sum(axes: drop), labels.enumerated().filter { !drop.contains($0.offset) }.map { $0.element })
        }
        let (x, xl) = try summedOut(a, aLabels, bLabels)
        let (y, yl) = try summedOut(b, bLabels, aLabels)
        let batch = output.filter { xl.contains($0) && yl.contains($0) }
        let contracted = xl.filter { yl.contains($0) && !output.contains($0) }
        let xFree = xl.filter { !yl.contains($0) }, yFree = yl.filter { !xl.contains($0) }
        func size(_ t: Tensor, _ labels: [Character], _ subset: [Character]) -> [Int] {
            subset.map { t.shape[labels.firstIndex(of: $0)!] }
        }
        let (batchDims, xDims, yDims, kDims) = (size(x, xl, batch), size(x, xl, xFree), size(y, yl, yFree), size(x, xl, contracted))
        guard size(y, yl, batch) == batchDims, size(y, yl, contracted) == kDims else {
            throw TensorError.shapeMismatch("einsum: operands of shapes \(a.shape) and \(b.shape) disagree on shared axes")
        }
        let (nb, nx, ny, nk) = (batchDims.reduce(1, *), xDims.reduce(1, *), yDims.reduce(1, *), kDims.reduce(1, *))
        let xm = try x.transposed((batch + xFree + contracted).map { xl.firstIndex(of: $0)! })
        let ym = try y.transposed((batch + contracted + yFree).map { yl.firstIndex(of: $0)! })
        let product = batch.isEmpty
            ? try Tensor.matmul(try xm.reshaped(to: [nx, nk]), try ym.reshaped(to: [nk, ny]))
            : try Tensor.matmul(try xm.reshaped(to: [nb, nx, nk]), try ym.reshaped(to: [nb, nk, ny]))
        let labels = batch + xFree + yFree
        return try product.reshaped(to: batchDims + xDims + yDims).transposed(output.map { labels.firstIndex(of: $0)! })
    }
}
