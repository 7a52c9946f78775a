"""Golden fixtures of DeltaActivation for the Swift layer tests.

Writes Tests/LayersTests/Fixtures/delta/ with real TensorFlow through the
keras_delta package (tools/keras_delta), in the format of tools/layer_fixtures.py
(see its docstring) plus, per case:

  <case>.loss.npy        0-d float32: the sum of the layer's added losses in the
                         recorded call (0 when it adds none)
  <case>.ginloss<i>.npy  d/d input_i of that loss alone (zeros when none)
  <case>.gwloss<k>.npy   d/d trainable weight_k of that loss alone

so the output path (`gin`, `gw`: gradients of sum(out · proj)) and the loss
path are checked separately. The meta's `losses_total` is the same loss.

Case names: <granularity>_<layout>_<threshold_gradient>[_<variant>], layout
`frames` (clip_length 4, batch 8 = 2 clips) or `time` ([2, 4, ...]); `tfk_`
cases are written by tf-keras, the rest by Keras 3.

Run: .venv/bin/python tools/gen_delta_fixtures.py
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "keras_delta"))  # this checkout's keras_delta, installed or not

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import tf_keras  # noqa: E402

import keras_delta  # noqa: E402
from layer_fixtures import ROOT, clean  # noqa: E402

FAMILY = "delta"
K3 = keras_delta.DeltaActivation
TFK = keras_delta.tf_keras.DeltaActivation

# Frames as batch: 2 clips of 4 frames of 3x3x4 images; explicit time: [2, 4, 3, 3, 4].
FRAMES = (8, 3, 3, 4)
TIME = (2, 4, 3, 3, 4)


def save_delta_case(name, layer, x, threshold, rng, training=True):
    """Calls `layer` on `x` with its threshold set to `threshold` and writes the case."""
    out = ROOT / FAMILY
    is_keras2 = layer.__class__.__module__.endswith("tf_keras")
    xv = tf.Variable(x)
    layer(xv, training=training)  # build
    layer.set_weights([threshold])
    trainable_ids = {id(v) for v in layer.trainable_weights}
    with tf.GradientTape(persistent=True) as tape:
        y = layer(xv, training=training)
        projection = rng.uniform(0.5, 1.5, size=tuple(y.shape)).astype(np.float32)
        target = tf.reduce_sum(y * projection)
        losses = list(layer.losses)
        loss = tf.add_n(losses) if losses else tf.zeros([], tf.float32)
    np.save(out / f"{name}.in0.npy", x)
    np.save(out / f"{name}.gin0.npy", tape.gradient(target, xv).numpy())
    g = tape.gradient(loss, xv) if losses else None
    np.save(out / f"{name}.ginloss0.npy", np.zeros_like(x) if g is None else tf.convert_to_tensor(g).numpy())
    flags = []
    for k, w in enumerate(layer.weights):
        np.save(out / f"{name}.w{k}.npy", threshold)
        flags.append(id(w) in trainable_ids)
        if flags[-1]:
            np.save(out / f"{name}.gw{k}.npy", tf.convert_to_tensor(tape.gradient(target, w)).numpy())
            g = tape.gradient(loss, w) if losses else None
            np.save(out / f"{name}.gwloss{k}.npy",
                    np.zeros(threshold.shape, np.float32) if g is None else tf.convert_to_tensor(g).numpy())
    np.save(out / f"{name}.out0.npy", y.numpy())
    np.save(out / f"{name}.proj0.npy", projection)
    np.save(out / f"{name}.loss.npy", np.array(loss.numpy(), np.float32))
    meta = {
        "class_name": layer.__class__.__name__,
        "registered_name": "keras_delta>DeltaActivation",
        "config": layer.get_config(),
        "keras_version": tf_keras.__version__ if is_keras2 else keras.__version__,
        "keras2": is_keras2,
        "tensorflow_version": tf.__version__,
        "weight_paths": [getattr(w, "path", w.name) for w in layer.weights],
        "trainable": flags,
        "training": training,
        "inputs": 1,
        "outputs": 1,
        "differentiable_inputs": True,
        "losses_total": float(loss.numpy()),
        "loss_count": len(losses),
    }
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1))


def thresholds(rng, shape, low=0.05, high=0.5):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def normal(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def threshold_shape(granularity, x_shape, clip_length):
    if granularity == "channel":
        return (x_shape[-1],)
    if granularity == "layer":
        return (1,)
    return tuple(x_shape[1:] if clip_length else x_shape[2:])


def grid(rng):
    """Every granularity x layout x gradient mode, training, Keras 3."""
    for granularity in ("channel", "layer", "neuron"):
        for layout, shape, clip in (("frames", FRAMES, 4), ("time", TIME, None)):
            for mode in ("lsq", "paper", "hybrid"):
                layer = K3(granularity=granularity, clip_length=clip, threshold_gradient=mode,
                           sparsity_weight=0.5, fan_out=27.0, threshold_init=0.2, name="delta")
                save_delta_case(f"{granularity}_{layout}_{mode}", layer, normal(rng, shape),
                                thresholds(rng, threshold_shape(granularity, shape, clip)), rng)


def variants(rng):
    """Inference, rank 2/3, signs, the clamp, exact ties, single frames, frozen and default layers."""
    def case(name, shape, threshold, cls=K3, training=True, x=None, **config):
        config.setdefault("sparsity_weight", 0.5)
        config.setdefault("fan_out", 27.0)
        layer = cls(name="delta", **config)
        save_delta_case(name, layer, normal(rng, shape) if x is None else x, threshold, rng, training=training)

    # Inference: same forward, no loss.
    case("channel_frames_hybrid_inference", FRAMES, thresholds(rng, (4,)), training=False,
         clip_length=4, threshold_gradient="hybrid")
    case("neuron_time_lsq_inference", TIME, thresholds(rng, (3, 3, 4)), training=False,
         granularity="neuron", threshold_gradient="lsq")
    case("layer_frames_paper_inference_rank2", (8, 6), thresholds(rng, (1,)), training=False,
         granularity="layer", clip_length=4, threshold_gradient="paper")
    # Rank-2 frames ([B*T, F]) and rank-3 explicit time ([B, T, F]).
    case("channel_frames_lsq_rank2", (8, 6), thresholds(rng, (6,)), clip_length=4, threshold_gradient="lsq")
    case("channel_frames_hybrid_rank2", (8, 6), thresholds(rng, (6,)), clip_length=4, threshold_gradient="hybrid")
    case("neuron_frames_paper_rank2", (8, 6), thresholds(rng, (6,)), granularity="neuron", clip_length=4,
         threshold_gradient="paper")
    case("channel_time_paper_rank3", (2, 4, 6), thresholds(rng, (6,)), threshold_gradient="paper")
    case("neuron_time_hybrid_rank3", (2, 4, 6), thresholds(rng, (6,)), granularity="neuron",
         threshold_gradient="hybrid")
    # Negative thresholds: q = |t|, dq/dt = sign(t).
    neg = thresholds(rng, (4,)) * np.array([-1, 1, -1, 1], np.float32)
    case("channel_frames_hybrid_negative", FRAMES, neg, clip_length=4, threshold_gradient="hybrid")
    case("neuron_time_lsq_negative", TIME, -thresholds(rng, (3, 3, 4)), granularity="neuron",
         threshold_gradient="lsq")
    # The clamp: |t| < 1e-6 gives q = 1e-6 and no threshold gradient; |t| == 1e-6 ties go to |t|.
    clamp = np.array([0.2, 1e-8, 0.0, 1e-6, -1e-6, -3e-7], np.float32)
    case("channel_time_lsq_clamp", (2, 4, 6), clamp, threshold_gradient="lsq")
    case("channel_frames_paper_clamp", (8, 2, 6), clamp, clip_length=4, threshold_gradient="paper")
    # Exact ties: x / q are multiples of 0.5, rounded half to even.
    ties = (rng.integers(-12, 13, size=(2, 4, 5)) * 0.125).astype(np.float32)
    case("layer_time_lsq_ties", ties.shape, np.array([0.25], np.float32), x=ties, granularity="layer")
    ties_frames = (rng.integers(-12, 13, size=(8, 5)) * 0.125).astype(np.float32)
    case("channel_frames_hybrid_ties", ties_frames.shape, np.full((5,), -0.25, np.float32), x=ties_frames,
         clip_length=4, threshold_gradient="hybrid")
    # A single frame per clip adds no loss at all.
    case("channel_frames_lsq_single_frame", (3, 4), thresholds(rng, (4,)), clip_length=1)
    case("channel_time_lsq_single_frame", (3, 1, 4), thresholds(rng, (4,)))
    # A frozen threshold (trainable_threshold false): no trainable weight.
    case("channel_frames_lsq_frozen", FRAMES, thresholds(rng, (4,)), clip_length=4, trainable_threshold=False)
    # The defaults (threshold_init 0.1, sparsity_weight 1e-4, fan_out 1), threshold left at its initial value.
    layer = K3(name="delta")
    save_delta_case("channel_time_lsq_defaults", layer, normal(rng, (2, 3, 5)), np.full((5,), 0.1, np.float32), rng)
    # tf-keras writers.
    case("tfk_channel_frames_hybrid", FRAMES, thresholds(rng, (4,)), cls=TFK, clip_length=4,
         threshold_gradient="hybrid")
    case("tfk_neuron_time_lsq", TIME, thresholds(rng, (3, 3, 4)), cls=TFK, granularity="neuron",
         threshold_gradient="lsq")
    case("tfk_layer_frames_paper_rank2", (8, 6), thresholds(rng, (1,)), cls=TFK, granularity="layer",
         clip_length=4, threshold_gradient="paper")
    case("tfk_channel_time_hybrid_inference", TIME, thresholds(rng, (4,)), cls=TFK, training=False,
         threshold_gradient="hybrid")
    case("tfk_channel_time_lsq_clamp", (2, 4, 6), clamp, cls=TFK, threshold_gradient="lsq")


def main():
    clean(FAMILY)
    rng = np.random.default_rng(20261206)
    grid(rng)
    variants(rng)
    files = list((ROOT / FAMILY).iterdir())
    total = sum(f.stat().st_size for f in files)
    print(f"wrote {sum(f.suffix == '.json' for f in files)} cases, {total / 1024:.0f} KiB, into {ROOT / FAMILY}")


if __name__ == "__main__":
    main()
