extension LayerCatalog {
    /// The preprocessing layers by Keras class name.
    static let preprocessing: [(String, Layer.Type)] = [
        ("Rescaling", Rescaling.self), ("Normalization", Normalization.self),
        ("Resizing", Resizing.self), ("CenterCrop", CenterCrop.self),
        ("RandomFlip", RandomFlip.self), ("RandomContrast", RandomContrast.self),
        ("RandomBrightness", RandomBrightness.self), ("RandomRotation", RandomRotation.self),
        ("RandomZoom", RandomZoom.self), ("RandomTranslation", RandomTranslation.self),
    ]
}
