extension LayerCatalog {
    /// The other layers by Keras class name.
    static let other: [(String, Layer.Type)] = []
}
