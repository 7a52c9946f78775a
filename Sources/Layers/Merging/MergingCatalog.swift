extension LayerCatalog {
    /// The merging layers by Keras class name.
    static let merging: [(String, Layer.Type)] = []
}
