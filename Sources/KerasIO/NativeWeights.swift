import HDF5
import Layers
import Tensor

/// The Keras 3 weights layout of `.weights.h5` files and of `model.weights.h5`
/// inside `.keras` archives (`saving_lib._save_state`, KERAS_FORMATS §2.2).
///
/// Every layer (and the model itself) has a group `<path>/vars` whose `name`
/// attribute holds the layer name and whose datasets `0`, `1`, … hold the
/// layer's own variables, trainable first, each in creation order. Children
/// follow at `<path>/<attribute>`; the layers of a list are named by their
/// snake_case class with a counter (`dense`, `dense_1`), in list order. A
/// layer reached twice is saved once, at its first path.
enum NativeWeights {
    /// The variables a layer saves itself, in Keras's order.
    static func ownVariables(_ layer: Layer) -> [Variable] {
        layer.ownWeights.filter { $0.trainable } + layer.ownWeights.filter { !$0.trainable }
    }

    /// Calls `visit` with every saveable layer and its path, in Keras's order.
    private static func walk(_ layer: Layer, path: String, visited: inout Set<ObjectIdentifier>,
                             _ visit: (Layer, String) throws -> Void) throws {
        guard visited.insert(ObjectIdentifier(layer)).inserted else { return }
        try visit(layer, path)
        for (attribute, child) in try saveableChildren(of: layer) {
            let childPath = path.isEmpty ? attribute : "\(path)/\(attribute)"
            switch child {
            case .layer(let sublayer):
                try walk(sublayer, path: childPath, visited: &visited, visit)
            case .list(let layers):
                var used: [String: Int] = [:]
                for sublayer in layers {
                    let base = NameScope.snakeCase(ClassIdentity(sublayer).className)
                    let count = used[base].map { $0 + 1 } ?? 0
                    used[base] = count
                    try walk(sublayer, path: "\(childPath)/\(count == 0 ? base : "\(base)_\(count)")", visited: &visited, visit)
                }
            }
        }
    }

    private static func varsPath(_ path: String) -> String { path.isEmpty ? "vars" : "\(path)/vars" }

    /// Writes `model`'s weights into the empty file `file`, and its optimizer
    /// state (`optimizer/vars`) when `withOptimizer` and it has one.
    static func write(_ model: Model, to file: HDF5File, withOptimizer: Bool = true) throws {
        var visited = Set<ObjectIdentifier>()
        try walk(model, path: "", visited: &visited) { layer, path in
            let vars = try file.createGroup(varsPath(path))
            try vars.writeAttribute("name", string: ModelConfigWriter.writtenName(layer), encoding: .utf8, form: .variableLength)
            for (i, variable) in ownVariables(layer).enumerated() {
                try vars.createDataset("\(i)", shape: variable.shape, values: variable.value.scalars)
            }
        }
        if withOptimizer, let state = model.optimizerStateToSave { try OptimizerWeights.writeNative(state, to: file) }
    }

    /// Gives `model` the optimizer state of `file`, if it has one (`load_weights`):
    /// restored into a compiled model's optimizer, or kept until `compile`.
    static func attachOptimizerState(from file: HDF5File, to model: Model, origin: String) throws {
        if let state = try OptimizerWeights.readNative(file, className: nil, origin: origin) { try model.attachOptimizerState(state) }
    }

    /// Loads the weights of `file` into `model`. Every layer must find exactly
    /// its own variables, with the right shapes; with `skipMismatch` a layer
    /// that does not keeps its weights. Nothing is assigned unless every
    /// layer's weights were read.
    static func read(into model: Model, from file: HDF5File, skipMismatch: Bool = false) throws {
        // Files of Keras 2.13 name the layer list `_layer_checkpoint_dependencies`.
        let legacyList = !file.contains("layers") && file.contains("_layer_checkpoint_dependencies")
        var assignments: [(Variable, Tensor)] = []
        var visited = Set<ObjectIdentifier>()
        try walk(model, path: "", visited: &visited) { layer, path in
            var stored = varsPath(path)
            if legacyList {
                stored = stored.split(separator: "/").map { $0 == "layers" ? "_layer_checkpoint_dependencies" : String($0) }
                    .joined(separator: "/")
            }
            let variables = ownVariables(layer)
            let vars = file.contains(stored) ? try file.group(stored) : nil
            let count = try vars?.childNames().count ?? 0
            guard count == variables.count else {
                if skipMismatch { return }
                throw KerasIOError(part: "/" + stored, "layer '\(layer.name)' has \(variables.count) variables, the file has \(count)")
            }
            guard let vars else { return }
            var values: [(Variable, Tensor)] = []
            for (i, variable) in variables.enumerated() {
                let dataset = try vars.dataset("\(i)")
                guard dataset.shape == variable.shape else {
                    if skipMismatch { return }
                    throw KerasIOError(part: dataset.objectPath,
                                       "variable '\(variable.name)' of layer '\(layer.name)' has shape \(variable.shape), the file has \(dataset.shape)")
                }
                values.append((variable, Tensor(shape: dataset.shape, scalars: try dataset.read(as: Float.self))))
            }
            assignments += values
        }
        for (variable, value) in assignments { try variable.assign(value) }
    }
}

/// A layer's saveable children, its error named as a file part.
func saveableChildren(of layer: Layer) throws -> [(name: String, child: SaveableChild)] {
    do { return try layer.saveableChildren() } catch let LayerError.badConfig(l, m) {
        throw KerasIOError(part: "layer '\(l)'", m)
    }
}
