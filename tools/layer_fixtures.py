"""Shared writer of per-layer golden fixtures for Tests/LayersTests.

Each family script (tools/gen_layer_fixtures_<family>.py) builds real Keras
layers and calls `save_case`, which writes into Tests/LayersTests/Fixtures/<family>/:

  <case>.json          class_name, config (layer.get_config()), writer versions,
                       weight paths in `layer.weights` order, which weights are
                       trainable, the training flag, input/output counts
  <case>.in<i>.npy     inputs
  <case>.w<k>.npy      weights (`layer.get_weights()` order, after randomizing)
  <case>.out<j>.npy    outputs
  <case>.proj<j>.npy   random projections P_j of the outputs
  <case>.gin<i>.npy    d/d input_i  of  Σ_j sum(out_j · P_j)   (tf.GradientTape)
  <case>.gw<k>.npy     d/d weight_k of the same, for trainable weights

The Swift harness (Tests/LayersTests/Support/LayerHarness.swift) rebuilds the
layer from the config, loads the weights, and compares everything.
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras
import tf_keras

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests/LayersTests/Fixtures"


def clean(family):
    out = ROOT / family
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        if f.suffix in (".npy", ".json"):
            f.unlink()
    return out


def randomize_weights(layer, rng):
    """Gives every weight non-trivial values; variances stay positive."""
    values = []
    for w in layer.weights:
        name = w.name.split("/")[-1].split(":")[0]
        shape = tuple(w.shape)
        if "variance" in name:
            v = rng.uniform(0.5, 1.5, size=shape)
        else:
            v = rng.uniform(-0.5, 0.5, size=shape)
        values.append(v.astype(np.float32))
    layer.set_weights(values)
    return values


def save_case(family, name, layer, inputs, rng, training=False, differentiable_inputs=True, keras2=None,
              weights=None):
    """Calls `layer` on `inputs` (a list of arrays) and writes its fixture.

    `weights` replaces the randomized weights when given (e.g. to set specific values).
    """
    out = ROOT / family
    is_keras2 = keras2 if keras2 is not None else layer.__class__.__module__.startswith("tf_keras")
    xs = [tf.Variable(x) if x.dtype.kind == "f" else tf.constant(x) for x in inputs]
    call_inputs = xs if len(xs) > 1 else xs[0]
    layer(call_inputs, training=training)  # build (in the mode of the recorded call)
    values = randomize_weights(layer, rng) if weights is None else weights
    if weights is not None:
        layer.set_weights(weights)
    trainable_ids = {id(v) for v in layer.trainable_weights}
    with tf.GradientTape(persistent=True) as tape:
        for x in xs:
            if isinstance(x, tf.Variable):
                tape.watch(x)
        y = layer(call_inputs, training=training)
        outputs = list(y) if isinstance(y, (list, tuple)) else [y]
        projections = [rng.uniform(0.5, 1.5, size=tuple(o.shape)).astype(np.float32) for o in outputs]
        target = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float32) * p) for o, p in zip(outputs, projections)])
    for i, x in enumerate(inputs):
        np.save(out / f"{name}.in{i}.npy", x)
        if differentiable_inputs and x.dtype.kind == "f":
            g = tape.gradient(target, xs[i])
            np.save(out / f"{name}.gin{i}.npy", np.zeros_like(x) if g is None else tf.convert_to_tensor(g).numpy())
    trainable_flags = []
    for k, (w, v) in enumerate(zip(layer.weights, values)):
        np.save(out / f"{name}.w{k}.npy", v)
        is_trainable = id(w) in trainable_ids
        trainable_flags.append(is_trainable)
        if is_trainable:
            g = tape.gradient(target, w)
            g = np.zeros(tuple(w.shape), np.float32) if g is None else tf.convert_to_tensor(g).numpy()
            np.save(out / f"{name}.gw{k}.npy", g.astype(np.float32))
    for j, (o, p) in enumerate(zip(outputs, projections)):
        np.save(out / f"{name}.out{j}.npy", tf.cast(o, tf.float32).numpy())
        np.save(out / f"{name}.proj{j}.npy", p)
    meta = {
        "class_name": layer.__class__.__name__,
        "config": layer.get_config(),
        "keras_version": tf_keras.__version__ if is_keras2 else keras.__version__,
        "keras2": is_keras2,
        "tensorflow_version": tf.__version__,
        "weight_paths": [getattr(w, "path", w.name) for w in layer.weights],
        "trainable": trainable_flags,
        "training": training,
        "inputs": len(inputs),
        "outputs": len(outputs),
        "differentiable_inputs": differentiable_inputs,
        "losses_total": float(sum(float(l) for l in layer.losses)),
    }
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1))
