extension LayerCatalog {
    /// The normalization layers by Keras class name.
    static let normalization: [(String, Layer.Type)] = [
        ("BatchNormalization", BatchNormalization.self), ("LayerNormalization", LayerNormalization.self),
        ("RMSNormalization", RMSNormalization.self), ("GroupNormalization", GroupNormalization.self),
        ("UnitNormalization", UnitNormalization.self),
    ]
}
