import Layers
import Tensor

/// Adagrad (`keras.optimizers.Adagrad`): `a += g²`, `w −= lr·g / √(a + ε)`,
/// the accumulators starting at `initialAccumulatorValue`.
public final class Adagrad: Optimizer {
    public let initialAccumulatorValue: Double
    public let epsilon: Double
    private var accumulators: [[Float]] = []

    public init(learningRate: LearningRate = 0.001, initialAccumulatorValue: Double = 0.1, epsilon: Double = 1e-7,
                weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        initialAccumulatorValue = try c.double("initial_accumulator_value", default: 0.1)
        epsilon = try c.double("epsilon", default: 1e-7)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        accumulators = makeSlots(Float(initialAccumulatorValue))
    }

    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in accumulators.indices { try visitSlot(i, "accumulator", &accumulators[i], body) }
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        let eps = Float(epsilon)
        accumulators[slot].withUnsafeMutableBufferPointer { a in
            variable.update { w in
                for i in w.indices {
                    a[i] += g[i] * g[i]
                    w[i] -= (lr * g[i]) / (a[i] + eps).squareRoot()
                }
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["initial_accumulator_value"] = .double(initialAccumulatorValue)
        c["epsilon"] = .double(epsilon)
        return c
    }
}
