extension LayerCatalog {
    /// The activations layers by Keras class name.
    static let activations: [(String, Layer.Type)] = [
        ("ReLU", ReLU.self), ("LeakyReLU", LeakyReLU.self), ("PReLU", PReLU.self), ("ELU", ELU.self),
        ("Softmax", Softmax.self), ("ThresholdedReLU", ThresholdedReLU.self),
    ]
}
