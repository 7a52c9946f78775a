import Layers
import Tensor
import Training

/// A small regression model `x[4] → Dense(3, tanh) → Dense(2)`, seeded.
func smallRegressor(seed: UInt64 = 5) throws -> Model {
    RandomState.seed(seed)
    let x = Input(shape: [4])
    let h = try Dense(units: 3, activation: "tanh", name: "hidden")(x)
    let y = try Dense(units: 2, name: "out")(h)
    return try Model(inputs: [x], outputs: [y])
}

/// Deterministic pseudo-random data: `n` samples of `features` inputs and `outputs` targets.
func regressionData(_ n: Int, features: Int = 4, outputs: Int = 2, seed: UInt64 = 9) -> (Tensor, Tensor) {
    var g = SeededGenerator(seed: seed)
    return (Tensor.randomNormal([n, features], generator: &g), Tensor.randomNormal([n, outputs], generator: &g))
}

/// Collects everything written to it (a progress-bar sink).
final class TextSink {
    private(set) var text = ""
    func write(_ s: String) { text += s }
}
