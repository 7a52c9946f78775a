/// Built-in layers by Keras class name. Each family declares its list in its
/// own folder (`<Family>/<Family>Catalog.swift`).
enum LayerCatalog {
    static var all: [(String, Layer.Type)] {
        convolution + pooling + reshaping + normalization + regularization + merging
            + preprocessing + recurrent + attention + activations + applications + delta + other
    }
}
