import Layers

/// Which Keras's formulas a model follows where the versions share a name but
/// not a meaning. The only such case is `hard_sigmoid`: `clip(0.2·x + 0.5, 0, 1)`
/// in tf-keras, `clip(x/6 + 0.5, 0, 1)` in Keras 3 (KERAS_FORMATS §4).
///
/// A legacy `.h5` records the version whose formulas it means in
/// `keras_version`, so KerasIO reads it back as written; a `.keras` archive
/// can only mean Keras 3.
enum VersionSemantics {
    /// The version written into files whose formulas are Keras 3's.
    static let keras3Version = ConfigKeys.kerasVersion
    /// The version written into legacy files whose formulas are tf-keras's.
    static let keras2Version = ConfigKeys.tfKerasVersion

    /// The first layer (searching sublayers too) computing tf-keras's hard_sigmoid.
    static func keras2HardSigmoidLayer(in layer: Layer) -> Layer? {
        var mirror: Mirror? = Mirror(reflecting: layer)
        while let m = mirror {
            for child in m.children {
                if let activation = child.value as? ActivationFunction, activation.keras2, activation.name == "hard_sigmoid" {
                    return layer
                }
            }
            mirror = m.superclassMirror
        }
        for sublayer in layer.sublayers {
            if let found = keras2HardSigmoidLayer(in: sublayer) { return found }
        }
        return nil
    }

    /// The `keras_version` of a legacy file holding `model`.
    static func legacyVersion(of model: Model) -> String {
        keras2HardSigmoidLayer(in: model) == nil ? keras3Version : keras2Version
    }

    /// Throws when `model` needs a formula Keras 3 cannot express.
    static func requireKeras3(_ model: Model) throws {
        if let layer = keras2HardSigmoidLayer(in: model) {
            throw KerasIOError(part: "layer '\(layer.name)'",
                               "uses tf-keras's hard_sigmoid (clip(0.2·x + 0.5)), which a Keras 3 file cannot express; save it as .h5")
        }
    }
}
