"""Keras-written delta models for the untrusted-file fuzz tests (Tests/KerasIOTests/FuzzTests.swift).

Writes Tests/KerasIOTests/Fixtures/delta/: small models holding DeltaActivation
layers (tools/keras_delta), saved by Keras 3 (`.h5` and `.keras`) and by
tf-keras (`.h5`), in both time layouts (frames as batch and an explicit time
axis), with non-trivial thresholds, weights and BatchNorm statistics.

Run: .venv/bin/python tools/gen_fuzz_delta_models.py
"""
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "keras_delta"))  # this checkout's keras_delta, installed or not

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tf_keras  # noqa: E402

import keras_delta  # noqa: E402

OUT = HERE.parent / "Tests" / "KerasIOTests" / "Fixtures" / "delta"


def randomize(model, rng):
    """Every weight non-trivial: thresholds 0.05..0.5, BatchNorm variances positive."""
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if "moving_variance" in " ".join(w.name for w in layer.weights):
            names = [w.name for w in layer.weights]
            weights = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in n
                       else rng.normal(0, 0.3, w.shape).astype(np.float32) for w, n in zip(weights, names)]
        elif "delta" in layer.__class__.__name__.lower():
            weights = [rng.uniform(0.05, 0.5, w.shape).astype(np.float32) for w in weights]
        else:
            weights = [rng.normal(0, 0.3, w.shape).astype(np.float32) for w in weights]
        layer.set_weights(weights)


def frame_cnn(k, delta):
    """Frames as batch (clip_length 4): delta on the input and after each non-linearity."""
    x = k.Input((16, 16, 3), name="frames")
    h = delta(clip_length=4, fan_out=108.0, name="frames_delta")(x)
    h = k.layers.Conv2D(4, 3, padding="same", name="conv")(h)
    h = k.layers.BatchNormalization(name="bn")(h)
    h = k.layers.ReLU(6.0, name="relu")(h)
    h = delta(clip_length=4, fan_out=9.0, threshold_gradient="hybrid", name="relu_delta")(h)
    h = k.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(h)
    h = delta(clip_length=4, granularity="layer", fan_out=0.75, name="dw_delta")(h)
    h = k.layers.GlobalAveragePooling2D(name="gap")(h)
    return k.Model(x, k.layers.Dense(3, activation="softmax", name="classes")(h), name="delta_frame_cnn")


def clip_conv3d(k, delta):
    """An explicit time axis (clip_length null): Conv3D over [time, H, W, C]."""
    x = k.Input((4, 8, 8, 3), name="clips")
    h = delta(fan_out=108.0, name="clips_delta")(x)
    h = k.layers.Conv3D(4, 3, padding="same", activation="relu", name="conv3d")(h)
    h = delta(granularity="neuron", threshold_gradient="paper", fan_out=3.0, name="conv3d_delta")(h)
    h = k.layers.GlobalAveragePooling3D(name="gap")(h)
    return k.Model(x, k.layers.Dense(3, name="logits")(h), name="delta_clip_conv3d")


def blocks(k, delta):
    """The newer streaming steps: Normalization, padding, a grouped convolution, a
    squeeze-and-excitation gate (broadcast Multiply), a residual Add, layer
    normalization, cropping and a softmax Activation head (clip_length 4)."""
    x = k.Input((16, 16, 3), name="frames")
    h = k.layers.Normalization(mean=[0.4, 0.5, 0.6], variance=[0.05, 0.06, 0.07], name="norm")(x)
    h = delta(clip_length=4, fan_out=54.0, name="frames_delta")(h)
    h = k.layers.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(h)
    h = k.layers.Conv2D(8, 3, strides=2, activation="relu", name="stem")(h)
    h = delta(clip_length=4, fan_out=36.0, name="stem_delta")(h)
    g = k.layers.Conv2D(8, 3, padding="same", groups=2, activation="relu", name="grouped")(h)
    g = delta(clip_length=4, fan_out=2.0, name="grouped_delta")(g)
    s = k.layers.GlobalAveragePooling2D(keepdims=True, name="squeeze")(g)
    s = k.layers.Conv2D(2, 1, activation="relu", name="reduce")(s)
    s = delta(clip_length=4, fan_out=8.0, name="reduce_delta")(s)
    s = k.layers.Conv2D(8, 1, activation="sigmoid", name="expand")(s)
    g = k.layers.Multiply(name="excite")([g, s])
    h = k.layers.Add(name="residual")([h, g])
    h = k.layers.LayerNormalization(epsilon=1e-3, name="ln")(h)
    h = k.layers.Cropping2D(((1, 0), (0, 1)), name="crop")(h)
    h = delta(clip_length=4, fan_out=36.0, name="crop_delta")(h)
    h = k.layers.Conv2D(4, 3, name="head_conv")(h)
    h = k.layers.GlobalAveragePooling2D(name="gap")(h)
    h = k.layers.Dense(3, name="logits")(h)
    return k.Model(x, k.layers.Activation("softmax", name="probs")(h), name="delta_blocks")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    rng = np.random.default_rng(11)
    for build, name in ((frame_cnn, "delta_frame_cnn"), (clip_conv3d, "delta_conv3d"), (blocks, "delta_blocks")):
        model = build(keras, keras_delta.DeltaActivation)
        randomize(model, rng)
        model.save(OUT / f"{name}_keras3.h5")
        model.save(OUT / f"{name}_keras3.keras")
        legacy = build(tf_keras, keras_delta.tf_keras.DeltaActivation)
        randomize(legacy, rng)
        legacy.save(OUT / f"{name}_tfkeras.h5", save_format="h5")
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")


if __name__ == "__main__":
    main()
