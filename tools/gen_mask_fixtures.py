"""Golden fixtures for mask propagation, computed by real Keras 3 and tf-keras.

Run: .venv/bin/python tools/gen_mask_fixtures.py

Masks come from `Masking` and `Embedding(mask_zero=True)`. The data has
masked timesteps everywhere a mask can hide: leading, trailing and inner
steps, a fully masked sample, and an unmasked one.

Writes:

  Tests/KerasIOTests/Fixtures/masking/   one model per case, saved by Keras
      <case>.keras (Keras 3) or <case>.h5 (tf-keras)
      <case>.json        file, writer versions, input/output counts, which
                         outputs carry a mask, which inputs are differentiable,
                         the weight paths in `model.weights` order and which
                         are trainable
      <case>.in<i>.npy   inputs
      <case>.out<j>.npy  `model(inputs)` outputs
      <case>.mask<j>.npy their masks (`_keras_mask`, as 0/1 floats), if any
      <case>.proj<j>.npy random projections P_j of the outputs
      <case>.gin<i>.npy  d/d input_i of Σ_j sum(out_j · P_j) (tf.GradientTape)
      <case>.gw<k>.npy   d/d weight_k of the same, for trainable weights

  Tests/TrainingTests/Fixtures/masking/<model>/   training parity in the
      format of tools/gen_training_fixtures.py (`parity/<model>/`): a masked
      sequence model fitted 3 epochs with shuffle=False; the loss and the
      metrics see the output mask.
"""
import json
import os
import pathlib
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras
import tf_keras

import gen_training_fixtures as training

REPO = pathlib.Path(__file__).resolve().parent.parent
MODELS = REPO / "Tests/KerasIOTests/Fixtures/masking"
PARITY = REPO / "Tests/TrainingTests/Fixtures/masking"
BATCH, TIME, FEATURES, VOCAB = 5, 6, 3, 9


def sequences(rng, batch=BATCH, fully_masked=True):
    """Float sequences: sample 0 has masked leading steps, 1 trailing and
    inner ones, 2 is fully masked (unless not wanted), 3 is unmasked, 4 has
    scattered masked steps. A step whose features are all 0 is masked."""
    x = rng.uniform(-1, 1, size=(batch, TIME, FEATURES)).astype(np.float32)
    x[0, :2] = 0
    x[1, 4:] = 0
    x[1, 2] = 0
    x[2] = 0 if fully_masked else x[2]
    x[4, [1, 3]] = 0
    x[4, 5, 0] = 0  # one zero feature does not mask a step
    return x


def tokens(rng, batch=BATCH, fully_masked=True):
    """Token ids with 0 (padding) where `sequences` masks steps."""
    t = rng.integers(1, VOCAB, size=(batch, TIME)).astype(np.float32)
    mask = sequences(np.random.default_rng(0), batch, fully_masked).any(axis=-1)
    return np.where(mask, t, 0).astype(np.float32)


# --- models ------------------------------------------------------------------

def masked_input(k, embedding=False):
    """An input and its masked sequence: Masking, or Embedding(mask_zero)."""
    L = k.layers
    if embedding:
        x = k.Input((TIME,), name="tokens")
        return x, L.Embedding(VOCAB, 4, mask_zero=True, name="embed")(x)
    x = k.Input((TIME, FEATURES), name="sequence")
    return x, L.Masking(name="mask")(x)


def rnn_case(layer_class, embedding=False, **kwargs):
    def build(k):
        x, h = masked_input(k, embedding)
        out = getattr(k.layers, layer_class)(3, name="rnn", **kwargs)(h)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        if kwargs.get("return_sequences"):
            outs[0] = k.layers.Dense(2, name="head")(outs[0])
        return k.Model(x, outs)
    return build


def bidirectional_case(layer_class, merge_mode, **kwargs):
    def build(k):
        x, h = masked_input(k)
        out = k.layers.Bidirectional(getattr(k.layers, layer_class)(2, **kwargs), merge_mode=merge_mode,
                                     name="bi")(h)
        return k.Model(x, list(out) if isinstance(out, (list, tuple)) else out)
    return build


def time_distributed(k):
    x, h = masked_input(k)
    h = k.layers.TimeDistributed(k.layers.Dense(4, activation="tanh"), name="td")(h)
    h = k.layers.Dropout(0.5, name="drop")(h)
    return k.Model(x, k.layers.LSTM(2, return_sequences=True, name="rnn")(h))


def merges(k):
    """Masked branches merged every way, and with an unmasked input."""
    L = k.layers
    x, h = masked_input(k)
    side = k.Input((TIME, 3), name="side")
    a = L.LSTM(3, return_sequences=True, name="rnn")(h)
    b = L.Dense(3, name="dense")(h)
    outs = [L.Add(name="add")([a, b]), L.Concatenate(name="concat")([a, b]),
            L.Concatenate(axis=1, name="concat_time")([a, b]), L.Add(name="add_unmasked")([a, side]),
            L.Concatenate(name="concat_unmasked")([a, side]), L.Average(name="average")([a, b])]
    if k is keras:  # Keras 3 also masks the values of these
        outs += [L.Maximum(name="maximum")([a, b]), L.Minimum(name="minimum")([a, b]),
                 L.Multiply(name="multiply")([a, b]), L.Multiply(name="multiply_unmasked")([a, side])]
    return k.Model([x, side], outs)


def pooled(k):
    x, h = masked_input(k, embedding=True)
    h = k.layers.GlobalAveragePooling1D(name="gap")(h)
    return k.Model(x, k.layers.Dense(2, name="head")(h))


def nested(k):
    """A functional model inside another: masks flow in and out of it."""
    inner_x = k.Input((TIME, FEATURES))
    inner = k.Model(inner_x, k.layers.GRU(3, return_sequences=True, name="rnn")(k.layers.Masking(name="mask")(inner_x)),
                    name="inner")
    x = k.Input((TIME, FEATURES), name="sequence")
    h = k.layers.Dense(2, name="head")(inner(x))
    return k.Model(x, k.layers.SimpleRNN(2, name="last")(h))


def sequential(k):
    return k.Sequential([k.Input((TIME,)), k.layers.Embedding(VOCAB, 3, mask_zero=True),
                         k.layers.LSTM(3, return_sequences=True), k.layers.Activation("relu"),
                         k.layers.GRU(2, return_sequences=True, go_backwards=True)], name="stack")


KERAS3 = {
    "lstm_sequences": (rnn_case("LSTM", return_sequences=True), False),
    "lstm_last_state": (rnn_case("LSTM", return_state=True), False),
    "lstm_backwards_sequences_state": (rnn_case("LSTM", return_sequences=True, return_state=True, go_backwards=True),
                                       False),
    "gru_backwards_sequences": (rnn_case("GRU", return_sequences=True, go_backwards=True), False),
    "gru_backwards_last_state": (rnn_case("GRU", go_backwards=True, return_state=True), False),
    "simple_rnn_zero_output": (rnn_case("SimpleRNN", return_sequences=True, zero_output_for_mask=True), False),
    "simple_rnn_zero_output_last": (rnn_case("SimpleRNN", zero_output_for_mask=True), False),
    "embedding_lstm_state": (rnn_case("LSTM", embedding=True, return_sequences=True, return_state=True), True),
    "embedding_gru_backwards": (rnn_case("GRU", embedding=True, return_sequences=True, go_backwards=True), True),
    "bidirectional_concat": (bidirectional_case("LSTM", "concat", return_sequences=True), False),
    "bidirectional_sum_last": (bidirectional_case("GRU", "sum"), False),
    "bidirectional_none": (bidirectional_case("SimpleRNN", None, return_sequences=True), False),
    "bidirectional_mul_state": (bidirectional_case("LSTM", "mul", return_sequences=True, return_state=True), False),
    "bidirectional_ave_last_state": (bidirectional_case("GRU", "ave", return_state=True), False),
    "time_distributed": (time_distributed, False),
    "merges": (merges, False),
    "global_average_pooling": (pooled, True),
    "nested": (nested, False),
    "sequential": (sequential, True),
}
TF_KERAS = {
    "lstm_sequences_keras2": (rnn_case("LSTM", return_sequences=True), False),
    "bidirectional_concat_keras2": (bidirectional_case("LSTM", "concat", return_sequences=True), False),
    "embedding_lstm_state_keras2": (rnn_case("LSTM", embedding=True, return_sequences=True, return_state=True), True),
    "merges_keras2": (merges, False),
}


def case_inputs(model, embedding, rng):
    """The case's inputs: a masked first input (tokens or sequences), plain others."""
    first = tokens(rng) if embedding else sequences(rng)
    if "gap" in [l.name for l in model.layers]:
        first = tokens(rng, fully_masked=False)  # a fully masked sample would average 0/0
    rest = [rng.uniform(-1, 1, size=(BATCH,) + tuple(t.shape[1:])).astype(np.float32) for t in model.inputs[1:]]
    return [first] + rest


def save_model_case(name, build, embedding, k, rng):
    k.utils.set_random_seed(1)
    model = build(k)
    for w in model.weights:
        w.assign(rng.uniform(-0.6, 0.6, size=tuple(w.shape)).astype(np.float32))
    inputs = case_inputs(model, embedding, rng)
    differentiable = [not (embedding and i == 0) for i in range(len(inputs))]
    xs = [tf.Variable(x) for x in inputs]
    with tf.GradientTape(persistent=True) as tape:
        y = model(xs if len(xs) > 1 else xs[0], training=False)
        outputs = list(y) if isinstance(y, (list, tuple)) else [y]
        projections = [rng.uniform(0.5, 1.5, size=tuple(o.shape)).astype(np.float32) for o in outputs]
        target = tf.add_n([tf.reduce_sum(o * p) for o, p in zip(outputs, projections)])
    masks = [getattr(o, "_keras_mask", None) for o in outputs]
    for i, (x, v) in enumerate(zip(inputs, xs)):
        np.save(MODELS / f"{name}.in{i}.npy", x)
        if differentiable[i]:
            np.save(MODELS / f"{name}.gin{i}.npy", tape.gradient(target, v).numpy())
    trainable = {id(w) for w in model.trainable_weights}
    for n, w in enumerate(model.weights):
        if id(w) in trainable:
            g = tape.gradient(target, w)
            g = np.zeros(tuple(w.shape), np.float32) if g is None else tf.convert_to_tensor(g).numpy()
            np.save(MODELS / f"{name}.gw{n}.npy", g)
    for j, (o, p, m) in enumerate(zip(outputs, projections, masks)):
        np.save(MODELS / f"{name}.out{j}.npy", o.numpy())
        np.save(MODELS / f"{name}.proj{j}.npy", p)
        if m is not None:
            np.save(MODELS / f"{name}.mask{j}.npy", tf.cast(m, tf.float32).numpy())
    keras2 = k is tf_keras
    file = f"{name}.h5" if keras2 else f"{name}.keras"
    model.save(MODELS / file)
    (MODELS / f"{name}.json").write_text(json.dumps({
        "file": file, "keras2": keras2,
        "keras_version": tf_keras.__version__ if keras2 else keras.__version__,
        "tensorflow_version": tf.__version__,
        "inputs": len(inputs), "outputs": len(outputs), "masked_outputs": [m is not None for m in masks],
        "differentiable_inputs": differentiable,
        "weights": [getattr(w, "path", w.name) for w in model.weights],
        "trainable": [id(w) in trainable for w in model.weights],
    }, indent=1))


# --- training parity ---------------------------------------------------------

def build_masked_lstm():
    keras.utils.set_random_seed(21)
    x, h = masked_input(keras)
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(h)
    y = keras.layers.Dense(2, name="out")(h)
    return keras.Model(x, y, name="masked_lstm"), "mse", ["mae"]


def build_embedding_gru():
    keras.utils.set_random_seed(22)
    x, h = masked_input(keras, embedding=True)
    h = keras.layers.GRU(4, return_sequences=True, name="gru")(h)
    y = keras.layers.Dense(3, name="logits")(h)
    return (keras.Model(x, y, name="embedding_gru"), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            ["accuracy"])


def gen_parity(rng):
    """22 samples in batches of 8; every 5 samples repeat the masking pattern of `sequences`."""
    O = keras.optimizers
    cases = {
        "masked_lstm": (build_masked_lstm, lambda: O.Adam(learning_rate=0.02),
                        lambda: np.concatenate([sequences(rng) for _ in range(5)])[:22],
                        lambda: rng.normal(size=(22, TIME, 2)).astype(np.float32)),
        "embedding_gru": (build_embedding_gru, lambda: O.SGD(learning_rate=0.2, momentum=0.5),
                          lambda: np.concatenate([tokens(rng) for _ in range(5)])[:22],
                          lambda: rng.integers(0, 3, size=(22, TIME)).astype(np.float32)),
    }
    for name, (builder, optimizer, make_x, make_y) in cases.items():
        out = PARITY / name
        out.mkdir(parents=True, exist_ok=True)
        x, y = make_x(), make_y()
        np.save(out / "x.npy", x)
        np.save(out / "y.npy", y)
        model, loss, metrics = builder()
        np.save(out / "init.npy", training.flat_weights(model))
        training.write_json(out / "model.json", {
            "config": model.get_config(), "weights": training.weight_layout(model),
            "loss": loss if isinstance(loss, str) else keras.losses.serialize(loss), "metrics": metrics,
            "batch_size": 8,
        })
        init = training.fit_case(out, builder, "fit", optimizer(), (x, y), {"batch_size": 8})
        assert np.array_equal(init, np.load(out / "init.npy"))


def main():
    for folder in (MODELS, PARITY):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    rng = np.random.default_rng(2025)
    for name, (build, embedding) in KERAS3.items():
        save_model_case(name, build, embedding, keras, rng)
    for name, (build, embedding) in TF_KERAS.items():
        save_model_case(name, build, embedding, tf_keras, rng)
    gen_parity(np.random.default_rng(2026))


if __name__ == "__main__":
    main()
