/// One variable of an optimizer's state as Keras files store it: the step
/// counter `iteration` is an int64 scalar, every other variable float32.
public struct OptimizerVariable: Equatable {
    public enum Values: Equatable {
        case int64(Int64)
        case float32([Float])
    }

    /// Keras 3's variable path, e.g. `adam/iteration` or `adam/sequential_dense_kernel_momentum`.
    public var path: String
    public var shape: [Int]
    public var values: Values

    public init(path: String, shape: [Int], values: Values) {
        self.path = path
        self.shape = shape
        self.values = values
    }
}

/// An optimizer's state read from or written to a Keras file, in the order of
/// Keras 3's `optimizer.variables`: `iteration`, `learning_rate` (absent when
/// the learning rate is a schedule), then the slot variables in Keras's
/// creation order.
public struct OptimizerState: Equatable {
    /// How a file's list is matched to an optimizer's variables.
    public enum Layout: Equatable {
        /// `optimizer/vars` of `.keras` and `.weights.h5`: exactly the
        /// optimizer's variables, or skipped with a warning (`load_own_variables`).
        case keras3
        /// `optimizer_weights` of a legacy `.h5`: assigned by position over
        /// the shorter list, as `set_weights` does; tf-keras files and
        /// KerasIO's own have no `learning_rate` entry.
        case legacyH5
    }

    /// The optimizer's name (`adam`), as the file records it.
    public var name: String
    /// The Keras class of the optimizer that wrote it (`Adam`), when the file says.
    public var className: String?
    public var variables: [OptimizerVariable]
    public var layout: Layout
    /// Where the state was read, for messages: the file and its part.
    public var origin: String

    /// Whether the second entry is `learning_rate`, as in Keras 3 lists of an
    /// optimizer with a fixed learning rate (not in tf-keras lists).
    public var hasLearningRate: Bool {
        variables.count > 1 && variables[1].path.split(separator: "/").last.map {
            $0 == "learning_rate" || $0 == "learning_rate:0"
        } == true
    }

    public init(name: String, className: String? = nil, variables: [OptimizerVariable], layout: Layout = .keras3, origin: String = "") {
        self.name = name
        self.className = className
        self.variables = variables
        self.layout = layout
        self.origin = origin
    }
}

/// What a model's ``Model/compileState`` offers file code: the optimizer
/// state to save, and a place to restore a saved one. The Training target's
/// compiled state implements it; before `compile`, a loaded model holds a
/// ``LoadedOptimizerState`` that `compile` restores from.
public protocol OptimizerStateOwner: AnyObject {
    /// The state to save, or nil when there is none (an optimizer not built yet).
    var optimizerState: OptimizerState? { get }
    /// Takes a state read from a file for `model`.
    func restoreOptimizerState(_ state: OptimizerState, model: Model) throws
}

/// The optimizer state of a file, held by a model that is not compiled yet,
/// as Keras keeps it between reading the file and `compile_from_config`.
public final class LoadedOptimizerState: OptimizerStateOwner {
    public private(set) var optimizerState: OptimizerState?

    public init(_ state: OptimizerState) { optimizerState = state }

    public func restoreOptimizerState(_ state: OptimizerState, model: Model) throws { optimizerState = state }
}

extension Model {
    /// Attaches optimizer state read from a file: restored into the compiled
    /// optimizer, or kept until `compile`.
    public func attachOptimizerState(_ state: OptimizerState) throws {
        if let owner = compileState as? OptimizerStateOwner {
            try owner.restoreOptimizerState(state, model: self)
        } else {
            compileState = LoadedOptimizerState(state)
        }
    }

    /// The optimizer state a file written now should hold.
    public var optimizerStateToSave: OptimizerState? { (compileState as? OptimizerStateOwner)?.optimizerState }
}
