extension LayerCatalog {
    /// The reshaping layers by Keras class name.
    static let reshaping: [(String, Layer.Type)] = [
        ("Flatten", Flatten.self), ("Reshape", Reshape.self), ("Permute", Permute.self),
        ("RepeatVector", RepeatVector.self),
        ("ZeroPadding1D", ZeroPadding1D.self), ("ZeroPadding2D", ZeroPadding2D.self), ("ZeroPadding3D", ZeroPadding3D.self),
        ("Cropping1D", Cropping1D.self), ("Cropping2D", Cropping2D.self), ("Cropping3D", Cropping3D.self),
        ("UpSampling1D", UpSampling1D.self), ("UpSampling2D", UpSampling2D.self), ("UpSampling3D", UpSampling3D.self),
    ]
}
