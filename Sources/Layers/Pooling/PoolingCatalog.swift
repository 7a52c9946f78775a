extension LayerCatalog {
    /// The pooling layers by Keras class name.
    static let pooling: [(String, Layer.Type)] = []
}
