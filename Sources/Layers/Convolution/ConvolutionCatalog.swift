extension LayerCatalog {
    /// The convolution layers by Keras class name, with Keras's long aliases (`Convolution2D`, ...).
    static let convolution: [(String, Layer.Type)] = [
        ("Conv1D", Conv1D.self), ("Conv2D", Conv2D.self), ("Conv3D", Conv3D.self),
        ("DepthwiseConv1D", DepthwiseConv1D.self), ("DepthwiseConv2D", DepthwiseConv2D.self),
        ("SeparableConv1D", SeparableConv1D.self), ("SeparableConv2D", SeparableConv2D.self),
        ("Conv1DTranspose", Conv1DTranspose.self), ("Conv2DTranspose", Conv2DTranspose.self),
        ("Conv3DTranspose", Conv3DTranspose.self),
        ("Convolution1D", Conv1D.self), ("Convolution2D", Conv2D.self), ("Convolution3D", Conv3D.self),
        ("SeparableConvolution1D", SeparableConv1D.self), ("SeparableConvolution2D", SeparableConv2D.self),
        ("Convolution1DTranspose", Conv1DTranspose.self), ("Convolution2DTranspose", Conv2DTranspose.self),
        ("Convolution3DTranspose", Conv3DTranspose.self),
    ]
}
