"""Golden fixtures for reshaping layers: Flatten, Reshape, Permute,
RepeatVector, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D
(Keras 3, plus tf-keras configs).

Run from tools/: ../.venv/bin/python gen_layer_fixtures_reshaping.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "reshaping"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(7)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, K2 = keras.layers, tf_keras.layers

    def case(name, layer, shape):
        save_case(FAMILY, name, layer, [x(*shape)], rng)

    case("flatten_rank4", L.Flatten(), (2, 3, 2, 2))
    case("flatten_rank2", L.Flatten(), (2, 5))
    case("flatten_channels_first", L.Flatten(data_format="channels_first"), (2, 3, 2, 4))
    case("flatten_keras2", K2.Flatten(), (2, 2, 3))
    case("reshape_infer", L.Reshape((-1, 3)), (2, 4, 3, 2))
    case("reshape_explicit", L.Reshape((2, 3, 2)), (2, 12))
    case("reshape_keras2", K2.Reshape((3, -1)), (2, 2, 3))
    case("permute_swap", L.Permute((2, 1)), (2, 3, 4))
    case("permute_rank4", L.Permute((3, 1, 2)), (2, 2, 3, 4))
    case("permute_keras2", K2.Permute((2, 3, 1)), (2, 3, 2, 2))
    case("repeat_vector", L.RepeatVector(3), (2, 4))
    case("repeat_vector_keras2", K2.RepeatVector(2), (2, 3))

    case("zero_padding1d_default", L.ZeroPadding1D(), (2, 4, 2))
    case("zero_padding1d_asymmetric", L.ZeroPadding1D((1, 3)), (2, 3, 2))
    case("zero_padding2d_pairs", L.ZeroPadding2D(((1, 2), (0, 3))), (2, 3, 2, 2))
    case("zero_padding2d_symmetric", L.ZeroPadding2D((2, 1)), (2, 2, 3, 1))
    case("zero_padding3d", L.ZeroPadding3D(((1, 0), (0, 2), 1)), (2, 2, 2, 3, 2))
    case("zero_padding1d_keras2", K2.ZeroPadding1D(2), (2, 3, 2))
    case("zero_padding2d_keras2", K2.ZeroPadding2D(((0, 1), (2, 0))), (2, 2, 3, 2))

    case("cropping1d_default", L.Cropping1D(), (2, 5, 2))
    case("cropping1d_asymmetric", L.Cropping1D((0, 2)), (2, 5, 3))
    case("cropping2d_pairs", L.Cropping2D(((1, 0), (2, 1))), (2, 4, 6, 2))
    case("cropping2d_int", L.Cropping2D(1), (2, 4, 5, 2))
    case("cropping3d", L.Cropping3D(((1, 1), (0, 2), 1)), (2, 4, 4, 4, 2))
    case("cropping2d_keras2", K2.Cropping2D(((1, 1), (0, 1))), (2, 4, 3, 2))

    case("up_sampling1d", L.UpSampling1D(3), (2, 3, 2))
    case("up_sampling1d_keras2", K2.UpSampling1D(2), (2, 3, 2))
    case("up_sampling2d_nearest", L.UpSampling2D((2, 3)), (2, 3, 2, 2))
    case("up_sampling2d_bilinear", L.UpSampling2D(2, interpolation="bilinear"), (2, 3, 4, 2))
    case("up_sampling2d_bilinear_rect", L.UpSampling2D((3, 2), interpolation="bilinear"), (2, 3, 5, 2))
    case("up_sampling2d_bilinear_keras2", K2.UpSampling2D((2, 3), interpolation="bilinear"), (2, 4, 3, 2))
    case("up_sampling3d", L.UpSampling3D((2, 1, 3)), (2, 2, 3, 2, 2))
    case("up_sampling3d_keras2", K2.UpSampling3D(2), (2, 2, 2, 2, 1))


if __name__ == "__main__":
    main()
