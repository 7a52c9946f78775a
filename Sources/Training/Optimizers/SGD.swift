import Layers
import Tensor

/// Gradient descent with optional momentum and Nesterov momentum (`keras.optimizers.SGD`):
/// `m = momentum·m − lr·g`, then `w += m` (or `w += momentum·m − lr·g` with Nesterov).
public final class SGD: Optimizer {
    public override class var defaultLearningRate: Double { 0.01 }
    public let momentum: Double
    public let nesterov: Bool
    private var momentums: [[Float]] = []

    public init(learningRate: LearningRate = 0.01, momentum: Double = 0, nesterov: Bool = false,
                weightDecay: Double? = nil, clipnorm: Double? = nil, clipvalue: Double? = nil,
                globalClipnorm: Double? = nil, name: String? = nil) throws {
        guard (0...1).contains(momentum) else { throw TrainingError.invalidArgument("SGD: momentum must be in [0, 1], got \(momentum)") }
        self.momentum = momentum
        self.nesterov = nesterov
        try super.init(learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
                   globalClipnorm: globalClipnorm, name: name)
    }

    public required init(config c: ObjectConfig) throws {
        momentum = try c.double("momentum", default: 0)
        guard (0...1).contains(momentum) else { throw TrainingError.badConfig("\(c.owner): momentum must be in [0, 1]") }
        nesterov = try c.bool("nesterov", default: false)
        try super.init(config: c)
    }

    public override func build(_ variables: [Variable]) {
        super.build(variables)
        if momentum != 0 { momentums = makeSlots() }
    }

    public override func forEachSlot(_ body: SlotVisitor) rethrows {
        for i in momentums.indices { try visitSlot(i, "momentum", &momentums[i], body) }
    }

    public override func update(_ g: [Float], variable: Variable, slot: Int, learningRate lr: Float) {
        guard momentum != 0 else {
            variable.update { w in for i in w.indices { w[i] -= g[i] * lr } }
            return
        }
        let mu = Float(momentum)
        momentums[slot].withUnsafeMutableBufferPointer { m in
            variable.update { w in
                for i in w.indices {
                    m[i] = m[i] * mu - g[i] * lr
                    w[i] += nesterov ? m[i] * mu - g[i] * lr : m[i]
                }
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["momentum"] = .double(momentum)
        c["nesterov"] = .bool(nesterov)
        return c
    }
}
