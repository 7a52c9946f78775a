import HDF5
import Layers

/// Optimizer state in Keras files, in its two layouts:
/// - Keras 3 (`.keras`, `.weights.h5`): `optimizer/vars/0…N` with a `name`
///   attribute, the optimizer's `save_own_variables` (KERAS_FORMATS §2.2);
/// - legacy `.h5`: `optimizer_weights` with a `weight_names` list and one
///   dataset per name (`save_optimizer_weights_to_hdf5_group`, §1.4).
///
/// The step counter is an int64 scalar, everything else float32.
enum OptimizerWeights {
    static let nativeGroup = "optimizer/vars"
    static let legacyGroup = "optimizer_weights"

    // MARK: Keras 3

    /// Writes `state` as the optimizer's `vars` group.
    static func writeNative(_ state: OptimizerState, to file: HDF5File) throws {
        let vars = try file.createGroup(nativeGroup)
        try vars.writeAttribute("name", string: state.name, encoding: .utf8, form: .variableLength)
        for (i, variable) in state.variables.enumerated() { try write(variable, as: "\(i)", in: vars) }
    }

    /// The state in `optimizer/vars`, or nil when the file has none.
    /// `className` is the optimizer class of the file's compile config.
    static func readNative(_ file: HDF5File, className: String?, origin: String) throws -> OptimizerState? {
        guard file.contains(nativeGroup) else { return nil }
        let vars = try file.group(nativeGroup)
        let name = vars.hasAttribute("name") ? try vars.attribute("name").readString() : "optimizer"
        // Datasets are named 0…N-1; they are read by index, never in listing order.
        var variables = try (0..<vars.childNames().count).map { try read(vars.dataset("\($0)"), path: "\(name)/\($0)") }
        // The file keeps no names: 0 is the step counter, and a float scalar at 1
        // the learning rate (slots have their variables' shapes).
        if !variables.isEmpty { variables[0].path = "\(name)/iteration" }
        if variables.count > 1, variables[1].shape.isEmpty, case .float32 = variables[1].values {
            variables[1].path = "\(name)/learning_rate"
        }
        return OptimizerState(name: name, className: className, variables: variables, layout: .keras3,
                              origin: "\(origin)/\(nativeGroup)")
    }

    // MARK: Legacy .h5

    /// The state in `optimizer_weights`, or nil when the file has none. A list
    /// without `learning_rate` (tf-keras, KerasIO) gets it back from
    /// `training_config` when the rate there is a number, so the state is
    /// Keras 3's list again when written to a `.keras` file.
    static func readLegacy(_ file: HDF5File, trainingConfig: JSONValue?, origin: String) throws -> OptimizerState? {
        guard file.contains(legacyGroup) else { return nil }
        let group = try file.group(legacyGroup)
        let variables = try LegacyWeights.strings(group, "weight_names").map { try read(group.dataset($0), path: $0) }
        let optimizer = trainingConfig?["optimizer_config"]
        let className = optimizer?["class_name"]?.stringValue.map { $0.hasPrefix("Custom>") ? String($0.dropFirst(7)) : $0 }
        let config = optimizer?["config"]
        let name = config?["name"]?.stringValue ?? variables.first?.path.split(separator: "/").first.map(String.init) ?? "optimizer"
        var state = OptimizerState(name: name, className: className, variables: variables, layout: .legacyH5,
                                   origin: "\(origin)/\(legacyGroup)")
        if !state.hasLearningRate, !variables.isEmpty, let rate = (config?["learning_rate"] ?? config?["lr"])?.doubleValue {
            state.variables.insert(OptimizerVariable(path: "\(name)/learning_rate", shape: [], values: .float32([Float(rate)])), at: 1)
        }
        return state
    }

    // MARK: Datasets

    private static func write(_ variable: OptimizerVariable, as name: String, in group: Group) throws {
        switch variable.values {
        case .int64(let n): try group.createDataset(name, shape: variable.shape, values: [n])
        case .float32(let values): try group.createDataset(name, shape: variable.shape, values: values)
        }
    }

    /// An integer dataset is the step counter (int64); any other number type is read as float32.
    private static func read(_ dataset: Dataset, path: String) throws -> OptimizerVariable {
        switch dataset.elementType {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
            if dataset.count == 1 {
                return OptimizerVariable(path: path, shape: dataset.shape, values: .int64(try dataset.read(as: Int64.self)[0]))
            }
        default: break
        }
        return OptimizerVariable(path: path, shape: dataset.shape, values: .float32(try dataset.read(as: Float.self)))
    }
}
