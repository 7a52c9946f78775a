import Foundation
import Layers
import Tensor

/// Adam (`keras.optimizers.Adam`), optionally AMSGrad:
/// `m += (g − m)(1 − β₁)`, `v += (g² − v)(1 − β₂)`,
/// `w −= m·α / (√v + ε)` with `α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)`.
public class Adam: Optimizer {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let amsgrad: Bool
    private var momentums: [[Float]] = []
    private var velocities: [[Float]] = []
    private var velocityHats: [[Float]] = []

    public init(learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                amsgrad: Bool = false, weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        beta1 = try c.double("beta_1", default: 0.9)
        beta2 = try c.double("beta_2", default: 0.999)
        epsilon = try c.double("epsilon", default: 1e-7)
        amsgrad = try c.bool("amsgrad", default: false)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        momentums = makeSlots()
        velocities = makeSlots()
        if amsgrad { velocityHats = makeSlots() }
    }

    /// Momentum and velocity interleaved per variable, then the AMSGrad maxima.
    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in momentums.indices {
            try visitSlot(i, "momentum", &momentums[i], body)
            try visitSlot(i, "velocity", &velocities[i], body)
        }
        for i in velocityHats.indices { try visitSlot(i, "velocity_hat", &velocityHats[i], body) }
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        let step = Float(iterations + 1)
        let b1Power = Foundation.pow(Float(beta1), step), b2Power = Foundation.pow(Float(beta2), step)
        let alpha = lr * (1 - b2Power).squareRoot() / (1 - b1Power)
        // `1 - beta` is computed in Python (double) before the cast, as in Keras.
        let oneMinusB1 = Float(1 - beta1), oneMinusB2 = Float(1 - beta2), eps = Float(epsilon)
        momentums[slot].withUnsafeMutableBufferPointer { m in
            velocities[slot].withUnsafeMutableBufferPointer { v in
                func moments(_ i: Int) {
                    m[i] += (g[i] - m[i]) * oneMinusB1
                    v[i] += (g[i] * g[i] - v[i]) * oneMinusB2
                }
                if amsgrad {
                    velocityHats[slot].withUnsafeMutableBufferPointer { vHat in
                        variable.update { w in
                            for i in w.indices {
                                moments(i)
                                vHat[i] = Swift.max(vHat[i], v[i])
                                w[i] -= (m[i] * alpha) / (vHat[i].squareRoot() + eps)
                            }
                        }
                    }
                } else {
                    variable.update { w in
                        for i in w.indices {
                            moments(i)
                            w[i] -= (m[i] * alpha) / (v[i].squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["beta_1"] = .double(beta1)
        c["beta_2"] = .double(beta2)
        c["epsilon"] = .double(epsilon)
        c["amsgrad"] = .bool(amsgrad)
        return c
    }
}

/// Adam with decoupled weight decay (`keras.optimizers.AdamW`, default `weight_decay` 0.004).
public final class AdamW: Adam {
    public init(learningRate: LearningRate = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9,
                beta2: Double = 0.999, epsilon: Double = 1e-7, amsgrad: Bool = false, clipnorm: Double? = nil,
                clipvalue: Double? = nil, globalClipnorm: Double? = nil, name: String? = nil) throws {
        try super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
                   weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        c.insertDefault("weight_decay", 0.004)
        try super.init(config: c)
        guard weightDecay != nil else { throw TrainingError.badConfig("\(c.owner): weight_decay must be a number, not null") }
    }
}
