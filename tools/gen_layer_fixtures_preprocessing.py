"""Golden fixtures for the preprocessing layers: Rescaling, Normalization,
Resizing (bilinear and nearest, up and down, aspect-ratio crop and pad),
CenterCrop, and the random augmentation layers at inference (RandomFlip,
RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
RandomBrightness; Keras 3 and tf-keras configs).

Also writes Tests/KerasIOTests/Fixtures/augmentation/: a Sequential model of
augmentation layers and a Conv2D saved by Keras 3 (.keras, .h5) and tf-keras
(.h5), with an input and Keras's prediction: <case>.<ext>, <case>.in0.npy,
<case>.out0.npy, <case>.json (writer version and file).

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_preprocessing.py
"""
import json
import pathlib

import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "preprocessing"
MODELS = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/augmentation"


def augmentation_cases(L, tag):
    """Each random augmentation layer with non-default options, in `L` (keras.layers or tf_keras.layers)."""
    cases = [
        ("random_flip", L.RandomFlip("horizontal", seed=3)),
        ("random_flip_default", L.RandomFlip()),
        ("random_rotation", L.RandomRotation((-0.1, 0.3), fill_mode="constant", interpolation="nearest", seed=5,
                                             fill_value=0.5)),
        ("random_zoom", L.RandomZoom((-0.2, 0.3), width_factor=0.1, fill_mode="nearest", seed=7)),
        ("random_translation", L.RandomTranslation((-0.1, 0.2), 0.3, fill_mode="wrap", seed=1)),
        ("random_contrast", L.RandomContrast((0.2, 0.5), seed=2)),
        ("random_contrast_scalar", L.RandomContrast(0.3)),
        ("random_brightness", L.RandomBrightness((-0.1, 0.3), value_range=(0, 1), seed=4)),
    ]
    if L is keras.layers:
        cases += [
            ("random_flip_channels_first", L.RandomFlip("vertical", data_format="channels_first")),
            ("random_contrast_value_range", L.RandomContrast(0.4, value_range=(-1, 1))),
            ("random_brightness_channels_first", L.RandomBrightness(0.2, data_format="channels_first")),
        ]
    return [(f"{name}_{tag}", layer) for name, layer in cases]


def augmentation_model(k, brightness=True):
    """Keras 3 cannot save RandomBrightness to .h5 (deepcopying its config fails), so that file goes without it."""
    L = k.layers
    return k.Sequential([
        k.Input((8, 8, 3)), L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.2),
        L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.2),
        *([L.RandomBrightness(0.1, value_range=(0, 1))] if brightness else []),
        L.Conv2D(4, 3, activation="relu"), L.GlobalAveragePooling2D(), L.Dense(2),
    ], name="augmented_cnn")


def save_augmentation_models(rng):
    MODELS.mkdir(parents=True, exist_ok=True)
    for f in MODELS.iterdir():
        f.unlink()
    x = rng.uniform(0, 1, size=(2, 8, 8, 3)).astype(np.float32)
    for k, tag, ext in ((keras, "keras3", "keras"), (keras, "keras3", "h5"), (tf_keras, "keras2", "h5")):
        model = augmentation_model(k, brightness=not (k is keras and ext == "h5"))
        for w in model.weights:
            w.assign(rng.uniform(-0.6, 0.6, tuple(w.shape)).astype(np.float32))
        y = model.predict(x, verbose=0)
        name = f"augmented_cnn_{tag}_{ext}"
        np.save(MODELS / f"{name}.in0.npy", x)
        np.save(MODELS / f"{name}.out0.npy", y)
        model.save(MODELS / f"{name}.{ext}")
        meta = {"keras_version": k.__version__, "file": f"{name}.{ext}", "inputs": 1, "outputs": 1,
                "layers": [layer.__class__.__name__ for layer in model.layers]}
        (MODELS / f"{name}.json").write_text(json.dumps(meta, indent=1))


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

    for layers, tag in ((L, "keras3"), (L2, "keras2")):
        for name, layer in augmentation_cases(layers, tag):
            shape = (2, 3, 5, 4) if "channels_first" in name else (2, 5, 4, 3)
            save_case(FAMILY, name, layer, [img(*shape)], rng)
    save_case(FAMILY, "random_flip_unbatched_keras3", L.RandomFlip(seed=8), [img(4, 3, 2)], rng)

    save_augmentation_models(rng)


if __name__ == "__main__":
    main()
