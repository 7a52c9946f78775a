extension LayerCatalog {
    /// The merging layers by Keras class name.
    static let merging: [(String, Layer.Type)] = [
        ("Add", Add.self), ("Subtract", Subtract.self), ("Multiply", Multiply.self), ("Average", Average.self),
        ("Maximum", Maximum.self), ("Minimum", Minimum.self), ("Concatenate", Concatenate.self), ("Dot", Dot.self),
    ]
}
