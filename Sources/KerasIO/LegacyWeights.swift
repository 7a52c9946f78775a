import HDF5
import Layers
import Tensor

/// The weight layout of legacy Keras HDF5 files (`model.save("m.h5")` and
/// Keras 2 `save_weights("w.h5")`): one group per layer listing its datasets
/// in the `weight_names` attribute, in `trainable_weights + non_trainable_weights` order.
enum LegacyWeights {
    /// Keras's `HDF5_OBJECT_HEADER_LIMIT`: the largest name list kept in one attribute.
    static let attributeLimit = 64512

    // MARK: Reading

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

    /// A model's own variables (not its layers'), as `top_level_model_weights` holds them.
    static func topLevelWeights(_ model: Model) -> [Variable] {
        model.ownWeights.filter { $0.trainable } + model.ownWeights.filter { !$0.trainable }
    }

    /// Loads weights into `model` by position (Keras's topological loading):
    /// layers with weights are matched, in order, to file groups whose
    /// `weight_names` is not empty. With `skipMismatch`, a layer whose
    /// weight count or shapes differ keeps its weights.
    static func loadByOrder(_ model: Model, from file: HDF5File, skipMismatch: Bool = false) throws {
        let root = try weightsRoot(file)
        var groups: [(Group, [String])] = []
        for name in try strings(root, "layer_names") {
            let group = try root.group(name)
            let weightNames = try strings(group, "weight_names")
            if !weightNames.isEmpty { groups.append((group, weightNames)) }
        }
        let layers = model.layers.filter { !legacyOrder($0).isEmpty }
        guard layers.count == groups.count else {
            throw KerasIOError(part: root.objectPath,
                               "the file has weights for \(groups.count) layers, the model has \(layers.count) layers with weights")
        }
        for (layer, (group, weightNames)) in zip(layers, groups) {
            try assign(legacyOrder(layer), of: layer.name, from: group, weightNames: weightNames, skipMismatch: skipMismatch)
        }
        if root.contains("top_level_model_weights") {
            let group = try root.group("top_level_model_weights")
            try assign(topLevelWeights(model), of: model.name, from: group, weightNames: try strings(group, "weight_names"),
                       skipMismatch: skipMismatch)
        }
    }

    /// Loads weights into every layer whose name matches a file group
    /// (`by_name=True`); other layers keep their weights.
    static func loadByName(_ model: Model, from file: HDF5File, skipMismatch: Bool) throws {
        let root = try weightsRoot(file)
        // Files written by KerasIO name groups by written name (no `/`); exact names win.
        var byName: [String: Layer] = [:]
        for layer in model.layers { byName[ModelConfigWriter.writtenName(layer)] = layer }
        for layer in model.layers { byName[layer.name] = layer }
        for name in try strings(root, "layer_names") {
            guard let layer = byName[name] else { continue }
            let group = try root.group(name)
            try assign(legacyOrder(layer), of: layer.name, from: group, weightNames: try strings(group, "weight_names"),
                       skipMismatch: skipMismatch)
        }
    }

    /// Checks that every dataset named in `weightNames` matches its variable's
    /// shape, then reads each straight into its variable's storage.
    private static func assign(_ variables: [Variable], of layer: String, from group: Group, weightNames: [String],
                               skipMismatch: Bool) throws {
        guard variables.count == weightNames.count else {
            if skipMismatch { return }
            throw KerasIOError(part: group.objectPath,
                               "the file has \(weightNames.count) weights for layer '\(layer)', the layer has \(variables.count)")
        }
        var datasets: [Dataset] = []
        for (variable, weightName) in zip(variables, weightNames) {
            let dataset = try group.dataset(weightName)
            guard dataset.shape == variable.shape else {
                if skipMismatch { return }
                throw KerasIOError(part: dataset.objectPath,
                                   "weight '\(variable.name)' of layer '\(layer)' has shape \(variable.shape), the file has \(dataset.shape)")
            }
            datasets.append(dataset)
        }
        for (variable, dataset) in zip(variables, datasets) {
            try variable.update { values in try values.withUnsafeMutableBufferPointer { try dataset.read(into: $0) } }
        }
    }

    // MARK: Writing

    /// Writes `model`'s weights into `group` as Keras's `save_weights_to_hdf5_group`:
    /// `layer_names`, `backend` and `keras_version` attributes, one group per
    /// layer (created in name order, as Keras does) and `top_level_model_weights`.
    static func write(_ model: Model, to group: Group, kerasVersion: String) throws {
        let layers = model.layers
        try writeNames(layers.map(ModelConfigWriter.writtenName), as: "layer_names", on: group)
        try group.writeAttribute("backend", string: "tensorflow", encoding: .ascii, form: .variableLength)
        try group.writeAttribute("keras_version", string: kerasVersion, encoding: .ascii, form: .variableLength)
        for layer in layers.sorted(by: { ModelConfigWriter.writtenName($0) < ModelConfigWriter.writtenName($1) }) {
            try writeSubset(legacyOrder(layer), to: try group.createGroup(ModelConfigWriter.writtenName(layer)))
        }
        try writeSubset(topLevelWeights(model), to: try group.createGroup("top_level_model_weights"))
    }

    /// One dataset per variable, named by the variable's path (Keras 3 style,
    /// no `:0`) and listed in `weight_names`.
    private static func writeSubset(_ variables: [Variable], to group: Group) throws {
        let names = uniqueNames(variables.map(\.name))
        try writeNames(names, as: "weight_names", on: group)
        for (variable, name) in zip(variables, names) {
            try group.createDataset(name, shape: variable.shape, values: variable.value.scalars)
        }
    }

    /// `names` with a repeated name suffixed `_1`, `_2`, … so each names its own dataset.
    static func uniqueNames(_ names: [String]) -> [String] {
        var used = Set<String>()
        return names.map { base in
            var name = base
            var n = 1
            while !used.insert(name).inserted {
                name = "\(base)_\(n)"
                n += 1
            }
            return name
        }
    }

    /// A name list as Keras's `save_attributes_to_hdf5_group` stores it:
    /// fixed-length NUL-padded bytes, split into `name0`, `name1`, … while the
    /// fixed-width array exceeds ``attributeLimit``, and an empty float64 array
    /// for no names.
    static func writeNames(_ names: [String], as name: String, on object: HDF5Object) throws {
        guard !names.isEmpty else { return try object.writeEmptyAttribute(name) }
        let width = names.map { $0.utf8.count }.max() ?? 0
        if let long = names.first(where: { $0.utf8.count > attributeLimit }) {
            throw KerasIOError(part: object.objectPath, "the name '\(long.prefix(40))…' is longer than \(attributeLimit) bytes")
        }
        var chunks = 1
        // numpy's array_split: the first `count % chunks` pieces hold one more name.
        while (names.count + chunks - 1) / chunks * width > attributeLimit { chunks += 1 }
        guard chunks > 1 else {
            return try object.writeAttribute(name, strings: names, encoding: .ascii, form: .fixedLength(.nullPadded))
        }
        var start = 0
        for i in 0..<chunks {
            let size = names.count / chunks + (i < names.count % chunks ? 1 : 0)
            try object.writeAttribute("\(name)\(i)", strings: Array(names[start..<start + size]), encoding: .ascii,
                                      form: .fixedLength(.nullPadded))
            start += size
        }
    }
}
