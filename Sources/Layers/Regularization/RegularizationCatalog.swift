extension LayerCatalog {
    /// The regularization layers by Keras class name.
    static let regularization: [(String, Layer.Type)] = [
        ("Dropout", Dropout.self), ("SpatialDropout1D", SpatialDropout1D.self),
        ("SpatialDropout2D", SpatialDropout2D.self), ("SpatialDropout3D", SpatialDropout3D.self),
        ("AlphaDropout", AlphaDropout.self), ("GaussianNoise", GaussianNoise.self),
        ("GaussianDropout", GaussianDropout.self), ("ActivityRegularization", ActivityRegularization.self),
    ]
}
