extension LayerCatalog {
    /// The preprocessing layers by Keras class name.
    static let preprocessing: [(String, Layer.Type)] = [
        ("Rescaling", Rescaling.self), ("Normalization", Normalization.self),
        ("Resizing", Resizing.self), ("CenterCrop", CenterCrop.self),
    ]
}
