extension LayerCatalog {
    /// The pooling layers by Keras class name, with Keras's short aliases (`MaxPool2D`, `GlobalAvgPool2D`, ...).
    static let pooling: [(String, Layer.Type)] = [
        ("MaxPooling1D", MaxPooling1D.self), ("MaxPooling2D", MaxPooling2D.self), ("MaxPooling3D", MaxPooling3D.self),
        ("AveragePooling1D", AveragePooling1D.self), ("AveragePooling2D", AveragePooling2D.self),
        ("AveragePooling3D", AveragePooling3D.self),
        ("GlobalMaxPooling1D", GlobalMaxPooling1D.self), ("GlobalMaxPooling2D", GlobalMaxPooling2D.self),
        ("GlobalMaxPooling3D", GlobalMaxPooling3D.self),
        ("GlobalAveragePooling1D", GlobalAveragePooling1D.self), ("GlobalAveragePooling2D", GlobalAveragePooling2D.self),
        ("GlobalAveragePooling3D", GlobalAveragePooling3D.self),
        ("MaxPool1D", MaxPooling1D.self), ("MaxPool2D", MaxPooling2D.self), ("MaxPool3D", MaxPooling3D.self),
        ("AvgPool1D", AveragePooling1D.self), ("AvgPool2D", AveragePooling2D.self), ("AvgPool3D", AveragePooling3D.self),
        ("GlobalMaxPool1D", GlobalMaxPooling1D.self), ("GlobalMaxPool2D", GlobalMaxPooling2D.self),
        ("GlobalMaxPool3D", GlobalMaxPooling3D.self),
        ("GlobalAvgPool1D", GlobalAveragePooling1D.self), ("GlobalAvgPool2D", GlobalAveragePooling2D.self),
        ("GlobalAvgPool3D", GlobalAveragePooling3D.self),
    ]
}
