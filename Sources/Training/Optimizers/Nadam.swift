import Foundation
import Layers
import Tensor

/// Nesterov Adam (`keras.optimizers.Nadam`) with the momentum schedule
/// `μₜ = β₁(1 − ½·0.96ᵗ)` and its running product.
public final class Nadam: Optimizer {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    private var momentums: [[Float]] = []
    private var velocities: [[Float]] = []
    /// Π μᵢ up to the current step (Keras's `_u_product`).
    private var uProduct: Float = 1

    public init(learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        beta1 = try c.double("beta_1", default: 0.9)
        beta2 = try c.double("beta_2", default: 0.999)
        epsilon = try c.double("epsilon", default: 1e-7)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        momentums = makeSlots()
        velocities = makeSlots()
        uProduct = 1
    }

    /// Momentum and velocity interleaved per variable, then the momentum
    /// product, which Keras creates unnamed (`nadam/variable`).
    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in momentums.indices {
            try visitSlot(i, "momentum", &momentums[i], body)
            try visitSlot(i, "velocity", &velocities[i], body)
        }
        guard built else { return }
        var product = [uProduct]
        try body("variable", [], &product)
        uProduct = product[0]
    }

    private func mu(_ step: Float) -> Float { Float(beta1) * (1 - 0.5 * Foundation.pow(Float(0.96), step)) }

    public override func prepareStep() {
        uProduct = uProduct * Float(beta1) * (1 - 0.5 * Foundation.pow(Float(0.96), Float(iterations + 1)))
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let uT = mu(Float(iterations + 1)), uNext = mu(Float(iterations + 2))
        let uProductNext = uProduct * uNext
        let b2Power = Foundation.pow(b2, Float(iterations + 1))
        let uProduct = self.uProduct
        momentums[slot].withUnsafeMutableBufferPointer { m in
            velocities[slot].withUnsafeMutableBufferPointer { v in
                variable.update { w in
                    for i in w.indices {
                        m[i] += (g[i] - m[i]) * (1 - b1)
                        v[i] += (g[i] * g[i] - v[i]) * (1 - b2)
                        let mHat = (uNext * m[i]) / (1 - uProductNext) + ((1 - uT) * g[i]) / (1 - uProduct)
                        let vHat = v[i] / (1 - b2Power)
                        w[i] -= (mHat * lr) / (vHat.squareRoot() + eps)
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
        return c
    }
}
