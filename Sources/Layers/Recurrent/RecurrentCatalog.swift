extension LayerCatalog {
    /// The recurrent layers by Keras class name.
    static let recurrent: [(String, Layer.Type)] = []
}
