extension LayerCatalog {
    /// The normalization layers by Keras class name.
    static let normalization: [(String, Layer.Type)] = []
}
