import HDF5
import Layers
import Tensor

/// The weight layout of legacy Keras HDF5 files (`model.save("m.h5")` and
/// Keras 2 `save_weights("w.h5")`): one group per layer listing its datasets
/// in the `weight_names` attribute, in `trainable_weights + non_trainable_weights` order.
enum LegacyWeights {
    /// A string-list attribute, possibly chunked as `name0`, `name1`, … (Keras's
    /// `load_attributes_from_hdf5_group`). Missing means empty.
    static func strings(_ object: HDF5Object, _ name: String) throws -> [String] {
        if object.hasAttribute(name) { return try object.attribute(name).readStrings() }
        var out: [String] = []
        var chunk = 0
        while object.hasAttribute("\(name)\(chunk)") {
            out += try object.attribute("\(name)\(chunk)").readStrings()
            chunk += 1
        }
        return out
    }

    /// The group that holds `layer_names`: the root of a weights file or
    /// `/model_weights` of a full model.
    static func weightsRoot(_ file: HDF5File) throws -> Group {
        if !file.hasAttribute("layer_names") && !file.hasAttribute("layer_names0") && file.contains("model_weights") {
            return try file.group("model_weights")
        }
        return file
    }

    /// A layer's variables in the legacy order.
    static func legacyOrder(_ layer: Layer) -> [Variable] { layer.trainableWeights + layer.nonTrainableWeights }

    /// Loads weights into `model` by position (Keras's topological loading):
    /// layers with weights are matched, in order, to file groups whose
    /// `weight_names` is not empty.
    static func loadByOrder(_ model: Model, from file: HDF5File, skipMismatch: Bool = false) throws {
        let root = try weightsRoot(file)
        let groupNames = try strings(root, "layer_names")
        var groups: [(String, [String])] = []
        for name in groupNames {
            let g = try root.group(name)
            let weightNames = try strings(g, "weight_names")
            if !weightNames.isEmpty { groups.append((name, weightNames)) }
        }
        let layers = model.layers.filter { !$0.weights.isEmpty }
        guard layers.count == groups.count else {
            throw KerasIOError(file: file.filePath, part: "model_weights",
                               "the file has weights for \(groups.count) layers, the model has \(layers.count) layers with weights")
        }
        for (layer, (groupName, weightNames)) in zip(layers, groups) {
            try assign(layer, group: try root.group(groupName), weightNames: weightNames, file: file, skipMismatch: skipMismatch)
        }
    }

    /// Loads weights into every layer whose name matches a file group (`by_name=True`).
    static func loadByName(_ model: Model, from file: HDF5File, skipMismatch: Bool) throws {
        let root = try weightsRoot(file)
        let byName = Dictionary(model.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in try strings(root, "layer_names") {
            guard let layer = byName[name] else { continue }
            let g = try root.group(name)
            try assign(layer, group: g, weightNames: try strings(g, "weight_names"), file: file, skipMismatch: skipMismatch)
        }
    }

    static func assign(_ layer: Layer, group: Group, weightNames: [String], file: HDF5File, skipMismatch: Bool) throws {
        let variables = legacyOrder(layer)
        guard variables.count == weightNames.count else {
            if skipMismatch { return }
            throw KerasIOError(file: file.filePath, part: "layer '\(layer.name)'",
                               "the file has \(weightNames.count) weights, the layer has \(variables.count)")
        }
        var values: [Tensor] = []
        for (variable, weightName) in zip(variables, weightNames) {
            let dataset = try group.dataset(weightName)
            guard dataset.shape == variable.shape else {
                if skipMismatch { return }
                throw KerasIOError(file: file.filePath, part: "\(group.objectPath)/\(weightName)",
                                   "weight '\(variable.name)' of layer '\(layer.name)' has shape \(variable.shape), the file has \(dataset.shape)")
            }
            values.append(Tensor(shape: dataset.shape, scalars: try dataset.read(as: Float.self)))
        }
        for (variable, value) in zip(variables, values) { try variable.assign(value) }
    }
}
