extension LayerCatalog {
    /// The activations layers by Keras class name.
    static let activations: [(String, Layer.Type)] = []
}
