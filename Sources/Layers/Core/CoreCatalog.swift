extension LayerCatalog {
    /// The other layers by Keras class name.
    static let other: [(String, Layer.Type)] = [
        ("Embedding", Embedding.self), ("Masking", Masking.self), ("EinsumDense", EinsumDense.self),
        ("Operation", OperationLayer.self),
    ]
}
