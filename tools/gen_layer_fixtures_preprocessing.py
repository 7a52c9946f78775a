"""Golden fixtures for the preprocessing layers: Rescaling, Normalization,
Resizing (bilinear and nearest, up and down, aspect-ratio crop and pad),
CenterCrop.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_preprocessing.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "preprocessing"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(6)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    img = lambda *s: rng.uniform(0, 1, size=s).astype(np.float32)
    L, L2 = keras.layers, tf_keras.layers

    save_case(FAMILY, "rescaling", L.Rescaling(1.0 / 255, offset=-0.5), [x(2, 3, 4)], rng)
    save_case(FAMILY, "rescaling_per_channel", L.Rescaling([0.5, 2.0, -1.0], offset=0.25), [x(2, 2, 2, 3)], rng)
    save_case(FAMILY, "rescaling_keras2", L2.Rescaling(0.5, offset=1.0), [x(3, 4)], rng)

    def adapted(name, layer, x, shape):
        """Normalization with given adapted statistics. Keras 3 caches them at
        `finalize_state`, which loading calls but `set_weights` does not."""
        weights = [rng.uniform(-1, 1, size=shape).astype(np.float32), rng.uniform(0.5, 2, size=shape).astype(np.float32),
                   np.array(7, np.int64)]
        if isinstance(layer, keras.layers.Layer):
            layer.build(x.shape)
            layer.set_weights(weights)
            layer.finalize_state()
        save_case(FAMILY, name, layer, [x], rng, weights=weights)

    adapted("normalization_adapted", L.Normalization(), x(3, 4), (4,))
    adapted("normalization_adapted_two_axes", L.Normalization(axis=(1, 2)), x(2, 3, 4), (3, 4))
    adapted("normalization_adapted_scalar", L.Normalization(axis=None), x(2, 3), ())
    save_case(FAMILY, "normalization_given", L.Normalization(mean=[0.5, -1.0, 2.0], variance=[1.0, 4.0, 0.25]),
              [x(2, 4, 3)], rng)
    save_case(FAMILY, "normalization_given_scalar", L.Normalization(axis=None, mean=1.5, variance=2.0), [x(2, 3)], rng)
    save_case(FAMILY, "normalization_given_axis1", L.Normalization(axis=1, mean=[1.0, 2.0], variance=[3.0, 0.5]),
              [x(3, 2, 4)], rng)
    save_case(FAMILY, "normalization_invert", L.Normalization(mean=[0.5, -1.0], variance=[2.0, 0.5], invert=True),
              [x(3, 2)], rng)
    adapted("normalization_keras2", L2.Normalization(), x(3, 4), (4,))
    save_case(FAMILY, "normalization_keras2_given", L2.Normalization(mean=[0.5, 1.0], variance=[2.0, 3.0]), [x(3, 2)], rng)

    save_case(FAMILY, "resizing_bilinear_up", L.Resizing(5, 7), [img(2, 3, 4, 2)], rng)
    save_case(FAMILY, "resizing_bilinear_down", L.Resizing(3, 4), [img(1, 7, 9, 3)], rng)
    save_case(FAMILY, "resizing_bilinear_mixed", L.Resizing(2, 9), [img(2, 5, 4, 1)], rng)
    save_case(FAMILY, "resizing_bilinear_unbatched", L.Resizing(4, 3), [img(3, 5, 2)], rng)
    save_case(FAMILY, "resizing_nearest_up", L.Resizing(7, 5, interpolation="nearest"), [img(2, 3, 2, 2)], rng)
    save_case(FAMILY, "resizing_nearest_down", L.Resizing(2, 3, interpolation="nearest"), [img(1, 5, 7, 2)], rng)
    save_case(FAMILY, "resizing_crop_to_aspect_ratio", L.Resizing(4, 4, crop_to_aspect_ratio=True), [img(1, 5, 9, 2)], rng)
    save_case(FAMILY, "resizing_pad_to_aspect_ratio", L.Resizing(3, 6, pad_to_aspect_ratio=True, fill_value=0.5),
              [img(1, 5, 4, 2)], rng)
    save_case(FAMILY, "resizing_channels_first", L.Resizing(3, 5, data_format="channels_first"), [img(1, 2, 4, 3)], rng)
    save_case(FAMILY, "resizing_keras2", L2.Resizing(5, 3), [img(2, 3, 4, 2)], rng)
    save_case(FAMILY, "resizing_keras2_nearest_crop", L2.Resizing(3, 3, interpolation="nearest", crop_to_aspect_ratio=True),
              [img(1, 4, 7, 2)], rng)

    save_case(FAMILY, "center_crop", L.CenterCrop(3, 2), [img(2, 6, 5, 2)], rng)
    save_case(FAMILY, "center_crop_upsize", L.CenterCrop(5, 4), [img(1, 3, 6, 2)], rng)
    save_case(FAMILY, "center_crop_unbatched", L.CenterCrop(2, 2), [img(3, 4, 2)], rng)
    save_case(FAMILY, "center_crop_keras2", L2.CenterCrop(2, 3), [img(2, 5, 4, 1)], rng)


if __name__ == "__main__":
    main()
