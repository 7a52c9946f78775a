extension LayerCatalog {
    /// The regularization layers by Keras class name.
    static let regularization: [(String, Layer.Type)] = []
}
