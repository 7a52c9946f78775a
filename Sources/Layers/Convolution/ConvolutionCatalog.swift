extension LayerCatalog {
    /// The convolution layers by Keras class name.
    static let convolution: [(String, Layer.Type)] = []
}
