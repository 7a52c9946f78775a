import Layers
import Tensor

extension Optimizer {
    /// Keras 3's `optimizer.variables`: `iteration`, `learning_rate` unless
    /// the learning rate is a schedule, then the slots in Keras's creation
    /// order (``forEachSlot(_:)``). Before ``build(_:)`` there are no slots.
    public var variables: [OptimizerVariable] {
        var out = [OptimizerVariable(path: "\(name)/iteration", shape: [], values: .int64(Int64(iterations)))]
        if case .constant(let lr) = learningRate {
            out.append(OptimizerVariable(path: "\(name)/learning_rate", shape: [], values: .float32([lr])))
        }
        forEachSlot { path, shape, values in
            out.append(OptimizerVariable(path: "\(name)/\(path)", shape: shape, values: .float32(values)))
        }
        return out
    }

    /// Restores a saved state, building the optimizer for `variables` first
    /// if needed, as Keras's `compile_from_config` does before loading.
    ///
    /// - A Keras 3 list must have exactly this optimizer's variable count,
    ///   or it is skipped with a warning (`load_own_variables`); a shape that
    ///   differs throws.
    /// - A legacy `.h5` list is matched by position over the shorter list
    ///   (`set_weights`), without the `learning_rate` entry when its second
    ///   name is not one (tf-keras and KerasIO's files); a shape that differs
    ///   skips the whole state with a warning, where Keras warns too.
    ///
    /// The learning rate is not taken from the list: it equals the one in the
    /// file's config, which built this optimizer, or the one the caller set.
    public func restore(_ state: OptimizerState, for variables: [Variable]) throws {
        if !built { build(variables) }
        var target = self.variables
        var stored = state.variables
        // How many entries precede the slots: iteration, and learning_rate unless a schedule.
        var heads = target.count - slotCount
        switch state.layout {
        case .keras3:
            guard stored.count == target.count else {
                return warn("\(state.origin): skipping variable loading for optimizer '\(name)', because it has \(target.count) "
                            + "variables whereas the saved optimizer has \(stored.count) variables")
            }
        case .legacyH5:
            if heads == 2 && !state.hasLearningRate {
                target.remove(at: 1)
                heads = 1
            }
            let count = Swift.min(stored.count, target.count)
            (target, stored) = (Array(target.prefix(count)), Array(stored.prefix(count)))
        }
        for (k, (want, have)) in zip(target, stored).enumerated() where want.shape != have.shape {
            let message = "\(state.origin)/\(k): optimizer variable '\(want.path)' has shape \(want.shape), the file has \(have.shape)"
            guard state.layout == .legacyH5 else { throw TrainingError.invalidData(message) }
            return warn("\(message); the optimizer starts fresh, as in Keras ('Error in loading the saved optimizer state')")
        }
        if let first = stored.first {
            switch first.values {
            case .int64(let n): iterations = Int(n)
            case .float32(let v): iterations = Int(v[0])
            }
        }
        let slots = stored.dropFirst(heads).map { entry -> [Float] in
            switch entry.values {
            case .int64(let n): return [Float(n)]
            case .float32(let v): return v
            }
        }
        var next = 0
        forEachSlot { _, _, values in
            if next < slots.count { values = slots[next] }
            next += 1
        }
    }

    /// The number of slot variables.
    private var slotCount: Int {
        var count = 0
        forEachSlot { _, _, _ in count += 1 }
        return count
    }
}

extension TrainingState: OptimizerStateOwner {
    /// The optimizer's variables once it is built; nothing before.
    public var optimizerState: OptimizerState? {
        optimizer.built ? OptimizerState(name: optimizer.name, className: type(of: optimizer).className, variables: optimizer.variables) : nil
    }

    /// Restores a state loaded into an already compiled model (`load_weights`).
    public func restoreOptimizerState(_ state: OptimizerState, model: Model) throws {
        try optimizer.restore(state, for: model.trainableWeights)
    }

    /// Restores the state a loaded model held before `compile`, when the file's
    /// optimizer is of the compiled optimizer's class. Another class starts
    /// fresh, as compiling a loaded Keras model again does.
    func restoreLoaded(_ state: OptimizerState, model: Model) throws {
        let className = type(of: optimizer).className
        guard state.className.map({ $0.lowercased() == className.lowercased() }) ?? true else { return }
        try restoreOptimizerState(state, model: model)
    }
}
