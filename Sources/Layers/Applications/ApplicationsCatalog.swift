extension LayerCatalog {
    /// The applications layers by Keras class name (tf-keras registers
    /// Inception-ResNet-v2's layer as `Custom>CustomScaleLayer`).
    static let applications: [(String, Layer.Type)] = [
        ("LayerScale", LayerScale.self), ("StochasticDepth", StochasticDepth.self),
        ("CustomScaleLayer", CustomScaleLayer.self), ("Custom>CustomScaleLayer", CustomScaleLayer.self),
    ]
}
