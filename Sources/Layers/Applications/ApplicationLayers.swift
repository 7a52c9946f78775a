import Tensor

/// ConvNeXt's `LayerScale` (keras.applications.convnext): multiplies the last
/// axis by a learned `gamma` of size `projection_dim`, initialized to `init_values`.
/// Keras 3 names the weight `variable` (it passes no name); tf-keras names it `gamma`.
public final class LayerScale: UnaryLayer {
    public let initValues: Double
    public let projectionDim: Int
    public private(set) var gamma: Variable!
    private let weightName: String

    public convenience init(initValues: Double, projectionDim: Int, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["init_values": .double(initValues), "projection_dim": .int(projectionDim)]))
    }

    public required init(config: LayerConfig) throws {
        initValues = try config.double("init_values")
        projectionDim = try config.int("projection_dim")
        guard projectionDim > 0 else { throw config.fail("projection_dim", "a positive integer") }
        weightName = config.keras2 ? "gamma" : "variable"
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["init_values"] = .double(initValues)
        c["projection_dim"] = .int(projectionDim)
        return c
    }

    public override func build(inputShape: Shape) throws {
        gamma = try addWeight(name: weightName, shape: [projectionDim], initializer: .constant(initValues))
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.shape.last == projectionDim else {
            throw LayerError.shapeMismatch(layer: name, "expects a last axis of size \(projectionDim), got shape \(x.shape)")
        }
        return try x * gamma.read()
    }
}

/// ConvNeXt's `StochasticDepth` (keras.applications.convnext): at training
/// time drops the whole residual branch of each sample with probability
/// `drop_path_rate` and scales the kept ones by `1 / (1 − drop_path_rate)`;
/// the identity at inference.
public final class StochasticDepth: UnaryLayer {
    public let dropPathRate: Double

    public convenience init(dropPathRate: Double, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["drop_path_rate": .double(dropPathRate)]))
    }

    public required init(config: LayerConfig) throws {
        dropPathRate = try config.double("drop_path_rate")
        guard (0..<1).contains(dropPathRate) else { throw config.fail("drop_path_rate", "a number in [0, 1)") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["drop_path_rate"] = .double(dropPathRate)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, dropPathRate > 0, x.rank > 0 else { return x }
        let keepProbability = Float(1 - dropPathRate)
        let keep = keepMask([x.shape[0]] + [Int](repeating: 1, count: x.rank - 1), rate: dropPathRate)
        return try (x / keepProbability) * keep
    }
}

/// Inception-ResNet-v2's `CustomScaleLayer` (keras.applications.inception_resnet_v2):
/// `inputs[0] + inputs[1] · scale`, the residual sum of a block.
public final class CustomScaleLayer: Layer {
    public let scale: Double

    public convenience init(scale: Double, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["scale": .double(scale)]))
    }

    public required init(config: LayerConfig) throws {
        scale = try config.double("scale")
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["scale"] = .double(scale)
        return c
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        guard inputShapes.count == 2 else { throw LayerError.shapeMismatch(layer: name, "expects 2 inputs, got \(inputShapes.count)") }
        return [inputShapes[0]]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        _ = try computeOutputShapes(inputs.map { $0.shape.map { Optional($0) } })
        do { return [try inputs[0] + inputs[1] * Float(scale)] } catch {
            throw LayerError.shapeMismatch(layer: name, "cannot add inputs of shapes \(inputs[0].shape) and \(inputs[1].shape)")
        }
    }
}
