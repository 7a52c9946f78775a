"""Golden fixtures for optimizer state in saved files, written by real Keras 3
and tf-keras: training continues exactly where it stopped.

Run: .venv/bin/python tools/gen_optimizer_state_fixtures.py

For the `convbn` (Conv2D + BatchNormalization) and `rnn` (LSTM) models of
tools/gen_training_fixtures.py, and each optimizer configuration below, Keras
compiles the model, fits 1 epoch (`shuffle=False`, 22 samples in batches of 8),
saves it, then continues for 2 more epochs. Writes into
Tests/KerasIOTests/Fixtures/optimizer_state/<model>/:

  x.npy, y.npy          the data
  init.keras            the model before training (uncompiled), for Swift's own runs
  <opt>.keras           Keras 3 after 1 epoch; <opt>.keras.npy: the weights after
                        `keras.models.load_model` + `fit` for 2 more epochs
  <opt>.h5              Keras 3's legacy file after 1 epoch; <opt>.h5.npy: the
                        weights after 2 more epochs of the same model (Keras 3
                        cannot fit after loading its own .h5 with optimizer
                        weights: its loader builds the optimizer for no variables)
  <opt>.tf.h5           tf-keras after 1 epoch (same initial weights);
                        <opt>.tf.h5.npy: after `tf_keras.models.load_model` + 2 epochs (for Nadam not a
                        continuation: tf-keras saves no momentum product)
  cases.json            the cases and the weight layout (`model.weights` order)

Weights are flat float32 in `model.weights` order. The JSON records the
versions that wrote it.
"""
import json
import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import numpy as np
import tensorflow as tf
import keras
import tf_keras

from gen_training_fixtures import build_convbn, build_rnn, flat_weights, parity_data

tf.config.experimental.enable_op_determinism()

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/optimizer_state"
VERSIONS = {"keras_version": keras.__version__, "tf_keras_version": tf_keras.__version__,
            "tensorflow_version": tf.__version__}
FIT = dict(batch_size=8, shuffle=False, verbose=0)


def optimizers(k):
    """Optimizer configurations by case name, from module `k` (keras or tf_keras)."""
    o = k.optimizers
    return {
        "sgd_momentum": lambda: o.SGD(learning_rate=0.05, momentum=0.9),
        "sgd_nesterov": lambda: o.SGD(learning_rate=0.05, momentum=0.8, nesterov=True),
        "adam": lambda: o.Adam(learning_rate=0.01),
        "adam_amsgrad": lambda: o.Adam(learning_rate=0.01, amsgrad=True),
        "rmsprop_centered_momentum": lambda: o.RMSprop(learning_rate=0.005, momentum=0.5, centered=True),
        "adagrad": lambda: o.Adagrad(learning_rate=0.05),
        "adamw": lambda: o.AdamW(learning_rate=0.01, weight_decay=0.01),
        "nadam": lambda: o.Nadam(learning_rate=0.01),
        "adadelta": lambda: o.Adadelta(learning_rate=1.0),
    }


def tf_keras_model(name):
    """The tf-keras twin of a Keras 3 model (same layers, names and configs)."""
    L = tf_keras.layers
    if name == "convbn":
        x = tf_keras.Input((6, 6, 2), name="image")
        h = L.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(x)
        h = L.BatchNormalization(name="bn")(h)
        h = L.Activation("relu", name="relu")(h)
        h = L.MaxPooling2D(2, name="pool")(h)
        h = L.Flatten(name="flatten")(h)
        y = L.Dense(3, name="logits")(h)
        return tf_keras.Model(x, y, name="convbn"), tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x = tf_keras.Input((5, 3), name="sequence")
    h = L.LSTM(4, name="lstm")(x)
    y = L.Dense(2, name="out")(h)
    return tf_keras.Model(x, y, name="rnn"), "mean_squared_error"


def gen_model(name, builder, rng):
    out = ROOT / name
    out.mkdir(parents=True, exist_ok=True)
    x, y = parity_data(name, rng)
    np.save(out / "x.npy", x)
    np.save(out / "y.npy", y)
    model, _, _ = builder()
    init = model.get_weights()
    model.save(out / "init.keras")
    layout = [{"path": w.path, "shape": list(w.shape)} for w in model.weights]
    cases = []
    for case, make in optimizers(keras).items():
        model, loss, _ = builder()
        model.compile(optimizer=make(), loss=loss)
        model.fit(x, y, epochs=1, **FIT)
        model.save(out / f"{case}.keras")
        model.save(out / f"{case}.h5")
        model.fit(x, y, epochs=2, **FIT)
        np.save(out / f"{case}.h5.npy", flat_weights(model))
        resumed = keras.models.load_model(out / f"{case}.keras")
        resumed.fit(x, y, epochs=2, **FIT)
        np.save(out / f"{case}.keras.npy", flat_weights(resumed))
        # Loading the .keras file continues exactly like the model in memory.
        np.testing.assert_array_equal(flat_weights(resumed), flat_weights(model))
        cases += [f"{case}.keras", f"{case}.h5"]
    for case, make in optimizers(tf_keras).items():
        model, loss = tf_keras_model(name)
        model.set_weights(init)
        model.compile(optimizer=make(), loss=loss)
        model.fit(x, y, epochs=1, **FIT)
        model.save(out / f"{case}.tf.h5")
        resumed = tf_keras.models.load_model(out / f"{case}.tf.h5")
        resumed.fit(x, y, epochs=2, **FIT)
        # tf-keras's `model.weights` puts all trainable weights first; each layer's are in Keras 3's order.
        np.save(out / f"{case}.tf.h5.npy",
                np.concatenate([w.numpy().reshape(-1) for layer in resumed.layers for w in layer.weights]))
        cases.append(f"{case}.tf.h5")
    (out / "cases.json").write_text(json.dumps({**VERSIONS, "layout": layout, "cases": cases}, indent=1))


def main():
    if ROOT.exists():
        shutil.rmtree(ROOT)
    rng = np.random.default_rng(2031)
    for name, builder in {"convbn": build_convbn, "rnn": build_rnn}.items():
        gen_model(name, builder, rng)


if __name__ == "__main__":
    main()
