extension LayerCatalog {
    /// The delta layers, under their class name and the name the `keras_delta`
    /// Python package registers (`keras_delta>DeltaActivation`).
    static let delta: [(String, Layer.Type)] = [
        ("DeltaActivation", DeltaActivation.self), ("keras_delta>DeltaActivation", DeltaActivation.self),
    ]
}
