extension LayerCatalog {
    /// The attention layers by Keras class name.
    static let attention: [(String, Layer.Type)] = [
        ("Attention", Attention.self), ("AdditiveAttention", AdditiveAttention.self),
        ("MultiHeadAttention", MultiHeadAttention.self),
    ]
}
