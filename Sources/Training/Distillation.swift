import Layers
import Tensor

/// Hinton et al.'s distillation loss between a teacher's and a student's
/// outputs: `τ² · KL(softmax(teacher/τ) ‖ softmax(student/τ))`, the KL
/// divergence as `keras.losses.KLDivergence` computes it (both distributions
/// clipped to `[1e-7, 1]`, summed over the last axis, then reduced), which is
/// what Keras's knowledge-distillation example does. The `τ²` keeps the
/// gradient's size independent of the temperature.
///
/// `yTrue` is the teacher's output (never differentiated), `yPred` the
/// student's. With `fromLogits: false` the outputs are probabilities: a
/// softmax output's kept logits are used, or else `log(clip(p, 1e-7, 1))`,
/// whose softmax is `p` again.
///
/// ```swift
/// let kd = DistillationKLDivergence(temperature: 4)
/// let loss = try kd(teacherLogits, studentLogits)
/// ```
public final class DistillationKLDivergence: Loss {
    public override class var defaultName: String { "distillation_kl_divergence" }
    /// The softmax temperature τ.
    public let temperature: Double
    public let fromLogits: Bool

    /// - Throws: `badConfig` for a temperature that is not positive and finite.
    public init(temperature: Double = 1, fromLogits: Bool = true, name: String? = nil,
                reduction: LossReduction = .sumOverBatchSize) throws {
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError.badConfig("DistillationKLDivergence: temperature must be positive, got \(temperature)")
        }
        self.temperature = temperature
        self.fromLogits = fromLogits
        super.init(name: name, reduction: reduction)
    }

    public required init(config c: ObjectConfig) throws {
        temperature = try c.double("temperature", default: 1)
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError.badConfig("\(c.owner): temperature must be positive, got \(temperature)")
        }
        fromLogits = try c.bool("from_logits", default: true)
        try super.init(config: c)
    }

    /// The logits of an output: itself, a softmax's kept logits, or the log of its probabilities.
    private func logits(_ output: Tensor) -> Tensor {
        if fromLogits { return output }
        if let kept = output.kerasLogits { return kept }
        return output.clip(kerasEpsilon, 1).log()
    }

    public override func call(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        guard yTrue.shape == yPred.shape else {
            throw TrainingError.invalidData("\(name): teacher outputs of shape \(yTrue.shape) and student outputs of shape \(yPred.shape) differ")
        }
        let tau = Float(temperature)
        let teacher = try (logits(yTrue) / tau).softmax(axis: -1).clip(kerasEpsilon, 1)
        let student = try (logits(yPred) / tau).softmax(axis: -1).clip(kerasEpsilon, 1)
        let kl = try (try teacher * (try teacher / student).log()).sum(axes: [-1])
        return kl * (tau * tau)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["temperature"] = .double(temperature)
        c["from_logits"] = .bool(fromLogits)
        return c
    }
}

/// Distances between a teacher's and a student's outputs for label-free
/// training, and how often they agree.
public enum Distillation {
    /// `τ² · KL(softmax(teacher/τ) ‖ softmax(student/τ))`, averaged over the
    /// samples (see ``DistillationKLDivergence``).
    public static func klDivergence(student: Tensor, teacher: Tensor, temperature: Double = 1, fromLogits: Bool = true,
                                    sampleWeight: Tensor? = nil) throws -> Tensor {
        try DistillationKLDivergence(temperature: temperature, fromLogits: fromLogits)(teacher, student, sampleWeight: sampleWeight)
    }

    /// The mean squared difference of the student's and the teacher's logits
    /// or features (`keras.losses.MeanSquaredError`: mean over the last axis,
    /// then over the rest).
    public static func meanSquaredError(student: Tensor, teacher: Tensor, sampleWeight: Tensor? = nil) throws -> Tensor {
        guard student.shape == teacher.shape else {
            throw TrainingError.invalidData("distillation MSE: teacher outputs of shape \(teacher.shape) and student outputs of shape \(student.shape) differ")
        }
        return try MeanSquaredError()(teacher, student, sampleWeight: sampleWeight)
    }

    /// How many rows have the same arg-max over the last axis in both, and of how many rows.
    public static func agreement(student: Tensor, teacher: Tensor) throws -> (matches: Int, count: Int) {
        guard student.shape == teacher.shape, let classes = student.shape.last, classes > 0 else {
            throw TrainingError.invalidData("agreement: teacher outputs of shape \(teacher.shape) and student outputs of shape \(student.shape) differ")
        }
        let rows = student.count / classes
        let s = student.scalars, t = teacher.scalars
        func argmax(_ v: [Float], _ row: Int) -> Int {
            var best = 0
            for k in 1..<classes where v[row * classes + k] > v[row * classes + best] { best = k }
            return best
        }
        return ((0..<rows).filter { argmax(s, $0) == argmax(t, $0) }.count, rows)
    }
}
