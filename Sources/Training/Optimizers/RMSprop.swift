import Layers
import Tensor

/// RMSprop (`keras.optimizers.RMSprop`): `v = ρv + (1 − ρ)g²`, and with
/// `centered` `ḡ = ρḡ + (1 − ρ)g`; the step `lr·g / √(v − ḡ² + ε)` is applied
/// directly or through a momentum buffer.
public final class RMSprop: Optimizer {
    public let rho: Double
    public let momentum: Double
    public let epsilon: Double
    public let centered: Bool
    private var velocities: [[Float]] = []
    private var momentums: [[Float]] = []
    private var averageGradients: [[Float]] = []

    public init(learningRate: LearningRate = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7,
                centered: Bool = false, weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        rho = try c.double("rho", default: 0.9)
        momentum = try c.double("momentum", default: 0)
        epsilon = try c.double("epsilon", default: 1e-7)
        centered = try c.bool("centered", default: false)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        velocities = makeSlots()
        // Unused buffers stay empty so every slot index is valid.
        momentums = momentum > 0 ? makeSlots() : variables.map { _ in [] }
        averageGradients = centered ? makeSlots() : variables.map { _ in [] }
    }

    /// All velocities, then the momentum buffers, then the average gradients (each when used).
    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in velocities.indices { try visitSlot(i, "velocity", &velocities[i], body) }
        if momentum > 0 { for i in momentums.indices { try visitSlot(i, "momentum", &momentums[i], body) } }
        if centered { for i in averageGradients.indices { try visitSlot(i, "average_gradient", &averageGradients[i], body) } }
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        let rho = Float(self.rho), oneMinusRho = Float(1 - self.rho), eps = Float(epsilon), mu = Float(momentum)
        let centered = self.centered, useMomentum = momentum > 0
        velocities[slot].withUnsafeMutableBufferPointer { v in
            averageGradients[slot].withUnsafeMutableBufferPointer { average in
                momentums[slot].withUnsafeMutableBufferPointer { buffer in
                    variable.update { w in
                        for i in w.indices {
                            v[i] = rho * v[i] + oneMinusRho * (g[i] * g[i])
                            var denominator = v[i] + eps
                            if centered {
                                average[i] = rho * average[i] + oneMinusRho * g[i]
                                denominator = v[i] - average[i] * average[i] + eps
                            }
                            let increment = (lr * g[i]) / denominator.squareRoot()
                            if useMomentum {
                                buffer[i] = mu * buffer[i] + increment
                                w[i] -= buffer[i]
                            } else {
                                w[i] -= increment
                            }
                        }
                    }
                }
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["rho"] = .double(rho)
        c["momentum"] = .double(momentum)
        c["epsilon"] = .double(epsilon)
        c["centered"] = .bool(centered)
        return c
    }
}
