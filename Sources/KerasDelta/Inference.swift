import Layers
import Tensor

/// Batched inference over whole arrays, as `model.predict`.
public enum Inference {
    /// Runs `model` on `inputs` (first axis = samples) in batches and joins the outputs.
    public static func predict(_ model: Model, _ inputs: [Tensor], batchSize: Int = 32) throws -> [Tensor] {
        guard let n = inputs.first?.shape.first else {
            throw LayerError.shapeMismatch(layer: model.name, "predict needs inputs with a sample axis")
        }
        for x in inputs where x.shape.first != n {
            throw LayerError.shapeMismatch(layer: model.name, "every input needs \(n) samples, got shape \(x.shape)")
        }
        var parts: [[Tensor]] = []
        var start = 0
        while start < n {
            let size = Swift.min(batchSize, n - start)
            let batch = try inputs.map { x in
                try x.slice(begin: [start] + [Int](repeating: 0, count: x.rank - 1), size: [size] + x.shape.dropFirst())
            }
            parts.append(try model.predictOnBatch(batch))
            start += size
        }
        guard let first = parts.first else { return try model.predictOnBatch(inputs) }
        return try first.indices.map { j in try Tensor.concatenate(parts.map { $0[j] }, axis: 0) }
    }
}
