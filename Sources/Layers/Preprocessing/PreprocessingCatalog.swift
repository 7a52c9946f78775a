extension LayerCatalog {
    /// The preprocessing layers by Keras class name.
    static let preprocessing: [(String, Layer.Type)] = []
}
