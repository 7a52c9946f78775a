extension LayerCatalog {
    /// The reshaping layers by Keras class name.
    static let reshaping: [(String, Layer.Type)] = []
}
