extension LayerCatalog {
    /// The applications layers by Keras class name.
    static let applications: [(String, Layer.Type)] = []
}
