import Layers

/// Where composite layers keep their sublayers, in Keras's terms: the config
/// keys their sublayers are serialized under, and the attributes Keras 3
/// walks when it saves weights (`saving_lib._walk_saveable`). This is the one
/// place that knows the Swift types of composite layers.
enum LayerStructure {
    /// One child of a saveable object: a layer attribute or a list of layers.
    enum Child {
        case layer(Layer)
        case list([Layer])
    }

    /// The sublayers serialized inside `layer`'s config, by config key.
    /// Models are not listed: their layers are written by the model writer.
    static func nestedConfigLayers(_ layer: Layer) -> [(key: String, layer: Layer)] {
        switch layer {
        case let b as Bidirectional: return [("layer", b.forwardLayer), ("backward_layer", b.backwardLayer)]
        case let t as TimeDistributed: return [("layer", t.layer)]
        case let r as RNN: return type(of: r).flatCellConfig ? [] : [("cell", r.cell)]
        default: return []
        }
    }

    /// The children Keras 3 saves after a layer's own variables, by
    /// attribute name in its walking order (`layers` first, then sorted names).
    static func saveableChildren(_ layer: Layer) throws -> [(name: String, child: Child)] {
        switch layer {
        case let m as Model: return [("layers", .list(m.layers))]
        case let b as Bidirectional: return [("backward_layer", .layer(b.backwardLayer)), ("forward_layer", .layer(b.forwardLayer))]
        case let t as TimeDistributed: return [("layer", .layer(t.layer))]
        case let r as RNN: return [("cell", .layer(r.cell))]
        case let a as MultiHeadAttention:
            // Its public properties `key_dense`, … name the projections (`_softmax`, `_dropout_layer` hold no variables).
            return [("key_dense", .layer(a.keyDense)), ("output_dense", .layer(a.outputDense)),
                    ("query_dense", .layer(a.queryDense)), ("value_dense", .layer(a.valueDense))]
        default:
            guard layer.sublayers.isEmpty else {
                throw KerasIOError(part: "layer '\(layer.name)'",
                                   "\(type(of: layer).className) has sublayers whose Keras 3 weight layout is unknown")
            }
            return []
        }
    }
}
