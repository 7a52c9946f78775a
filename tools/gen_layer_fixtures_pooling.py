"""Golden fixtures for pooling layers: Max/AveragePooling1D/2D/3D and
GlobalMax/GlobalAveragePooling1D/2D/3D (Keras 3, plus tf-keras configs).

Run from tools/: ../.venv/bin/python gen_layer_fixtures_pooling.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "pooling"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(5)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, K2 = keras.layers, tf_keras.layers

    def case(name, layer, shape):
        save_case(FAMILY, name, layer, [x(*shape)], rng)

    # Windowed pooling: default strides (= pool size), explicit strides, same padding on odd sizes.
    for mode, (P1, P2, P3) in {"max": (L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D),
                               "average": (L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D)}.items():
        case(f"{mode}_pooling1d_default", P1(2), (2, 7, 3))
        case(f"{mode}_pooling1d_same_stride1", P1(3, strides=1, padding="same"), (2, 6, 2))
        case(f"{mode}_pooling2d_default_odd", P2(2), (2, 5, 7, 2))
        case(f"{mode}_pooling2d_same_stride2_odd", P2(3, strides=2, padding="same"), (2, 7, 5, 2))
        case(f"{mode}_pooling2d_rect_valid", P2((2, 3), strides=(1, 2)), (2, 5, 7, 2))
        case(f"{mode}_pooling3d_default", P3(2), (2, 4, 5, 4, 2))
        case(f"{mode}_pooling3d_same_odd", P3((2, 3, 2), strides=(2, 2, 1), padding="same"), (2, 3, 5, 3, 2))
    case("max_pooling2d_keras2_same", K2.MaxPooling2D(3, strides=2, padding="same"), (2, 5, 6, 2))
    case("average_pooling1d_keras2", K2.AveragePooling1D(3, strides=2, padding="same"), (2, 7, 2))

    # Global pooling, with and without keepdims.
    for mode, (G1, G2, G3) in {"max": (L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D),
                               "average": (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D,
                                           L.GlobalAveragePooling3D)}.items():
        case(f"global_{mode}_pooling1d", G1(), (2, 5, 3))
        case(f"global_{mode}_pooling2d_keepdims", G2(keepdims=True), (2, 4, 3, 3))
        case(f"global_{mode}_pooling2d", G2(), (2, 3, 4, 2))
        case(f"global_{mode}_pooling3d_keepdims", G3(keepdims=True), (2, 3, 2, 3, 2))
        case(f"global_{mode}_pooling3d", G3(), (2, 2, 3, 2, 3))
    case("global_average_pooling2d_keras2", K2.GlobalAveragePooling2D(), (2, 3, 3, 2))
    case("global_max_pooling1d_keras2_keepdims", K2.GlobalMaxPooling1D(keepdims=True), (2, 4, 2))


if __name__ == "__main__":
    main()
