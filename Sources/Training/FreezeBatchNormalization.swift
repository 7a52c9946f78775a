import Layers

extension Layer {
    /// Freezes every BatchNormalization layer inside this one (itself
    /// included) for training: they normalize with their moving statistics and
    /// never update them.
    ///
    /// By default this is Keras's way, `layer.trainable = False` on each
    /// BatchNormalization: `gamma` and `beta` stop training too. With
    /// `trainAffine`, `gamma` and `beta` keep training and only the statistics
    /// are frozen (``BatchNormalization/freezeStatistics``).
    /// - Returns: the layers changed, to undo with ``unfreezeBatchNormalization()``.
    @discardableResult
    public func freezeBatchNormalization(trainAffine: Bool = false) -> [BatchNormalization] {
        let layers = allLayers(self).compactMap { $0 as? BatchNormalization }
        for bn in layers {
            if trainAffine { bn.freezeStatistics = true } else { bn.trainable = false }
        }
        return layers
    }

    /// Undoes ``freezeBatchNormalization(trainAffine:)``: every BatchNormalization
    /// inside trains and updates its statistics again.
    public func unfreezeBatchNormalization() {
        for bn in allLayers(self).compactMap({ $0 as? BatchNormalization }) {
            bn.freezeStatistics = false
            bn.trainable = true
        }
    }
}
