import Layers
import Tensor

/// Adadelta (`keras.optimizers.Adadelta`): `G = ρG + (1 − ρ)g²`,
/// `Δ = −√(D + ε)·g / √(G + ε)`, `D = ρD + (1 − ρ)Δ²`, `w += lr·Δ`.
public final class Adadelta: Optimizer {
    public let rho: Double
    public let epsilon: Double
    private var accumulatedGrads: [[Float]] = []
    private var accumulatedDeltas: [[Float]] = []

    public init(learningRate: LearningRate = 0.001, rho: Double = 0.95, epsilon: Double = 1e-7,
                weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        self.rho = rho
        self.epsilon = epsilon
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        rho = try c.double("rho", default: 0.95)
        epsilon = try c.double("epsilon", default: 1e-7)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        accumulatedGrads = makeSlots()
        accumulatedDeltas = makeSlots()
    }

    /// The two accumulators interleaved per variable.
    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in accumulatedGrads.indices {
            try visitSlot(i, "accumulated_grad", &accumulatedGrads[i], body)
            try visitSlot(i, "accumulated_delta_var", &accumulatedDeltas[i], body)
        }
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        let rho = Float(self.rho), oneMinusRho = Float(1 - self.rho), eps = Float(epsilon)
        accumulatedGrads[slot].withUnsafeMutableBufferPointer { G in
            accumulatedDeltas[slot].withUnsafeMutableBufferPointer { D in
                variable.update { w in
                    for i in w.indices {
                        G[i] = rho * G[i] + oneMinusRho * (g[i] * g[i])
                        let delta = -(((D[i] + eps).squareRoot() * g[i]) / (G[i] + eps).squareRoot())
                        D[i] = rho * D[i] + oneMinusRho * (delta * delta)
                        w[i] += lr * delta
                    }
                }
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["rho"] = .double(rho)
        c["epsilon"] = .double(epsilon)
        return c
    }
}
