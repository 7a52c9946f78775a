"""Fixtures for the KerasIO tests.

configs/: model configs as Keras 3 and tf-keras write them (`model.to_json()`),
each layer's weights, an input and Keras's prediction:
<case>.json (config and metadata), <case>.h5 (the model saved by that Keras in
the legacy HDF5 format), <case>.<layer>.w<k>.npy, <case>.in<i>.npy, <case>.out<j>.npy.

models/: small models of every layer family the interop suite covers, saved by
Keras 3 as `.keras` (and `.weights.h5` for some) and by tf-keras as `.h5` (and
as Keras 2 `save_weights` files for some), with an input and Keras's
prediction: <case>.<ext>, <case>.in<i>.npy, <case>.out<j>.npy, <case>.json
(writer version and counts). The Swift tests load them, check the
predictions, and write them back into every format for tests/interop.

Run: .venv/bin/python tools/gen_keras_io_fixtures.py
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tf_keras

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures"
OUT = FIXTURES / "configs"
MODELS = FIXTURES / "models"


def nested_functional(k):
    """A functional model that calls a nested Sequential and a nested Functional once each."""
    L = k.layers
    inner_seq = k.Sequential([k.Input((4,)), L.Dense(5, activation="relu", name="seq_dense")], name="inner_seq")
    ii = k.Input((5,), name="inner_in")
    inner_fun = k.Model(ii, L.Dense(3, activation="tanh", name="fun_dense")(ii), name="inner_fun")
    x = k.Input((4,), name="x")
    shared = L.Dense(4, name="shared")
    h = inner_fun(inner_seq(shared(shared(x))))
    y = L.Dense(2, activation="hard_sigmoid", name="out")(h)
    return k.Model(x, y, name="nested")


def multi_io(k):
    L = k.layers
    a, b = k.Input((3,), name="a"), k.Input((2,), name="b")
    ha = L.Dense(4, activation="relu", name="ha")(a)
    hb = L.Dense(4, activation="elu", name="hb")(b)
    oa = L.Dense(1, name="oa")(ha)
    ob = L.Dense(2, activation="softmax", name="ob")(hb)
    return k.Model([a, b], [oa, ob], name="multi")


def sequential_without_input(k):
    m = k.Sequential([k.layers.Dense(3, activation="relu", name="s1"), k.layers.Dense(2, name="s2")], name="lazy")
    m.build((None, 4))
    return m


def save(case, model, inputs, rng, keras2):
    layer_weights = {}
    def all_layers(m):
        for l in m.layers:
            yield l
            if hasattr(l, "layers"):
                yield from all_layers(l)
    for layer in all_layers(model):
        ws = [rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32) for w in layer.get_weights()]
        if ws and not hasattr(layer, "layers"):
            layer.set_weights(ws)
            layer_weights[layer.name] = len(ws)
            for k, w in enumerate(ws):
                np.save(OUT / f"{case}.{layer.name}.w{k}.npy", w)
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    for i, x in enumerate(inputs):
        np.save(OUT / f"{case}.in{i}.npy", x)
    for j, y in enumerate(outputs):
        np.save(OUT / f"{case}.out{j}.npy", y)
    meta = {"keras_version": (tf_keras if keras2 else keras).__version__, "model_config": json.loads(model.to_json()),
            "layer_weights": layer_weights, "inputs": len(inputs), "outputs": len(outputs)}
    (OUT / f"{case}.json").write_text(json.dumps(meta, indent=1))
    model.save(OUT / f"{case}.h5")


# --- models/ ---------------------------------------------------------------

def dense_mlp(k):
    """Dense with the activations whose names differ between versions."""
    L = k.layers
    return k.Sequential([k.Input((8,)), L.Dense(16, activation="swish", name="hidden"), L.LeakyReLU(0.2),
                         L.Dropout(0.3), L.Dense(6, activation="relu"), L.Dense(4, activation="softmax", name="probs")],
                        name="mlp")


def conv_bn_pool(k):
    L = k.layers
    x = k.Input((12, 12, 3), name="image")
    h = L.Conv2D(4, 3, padding="same", name="conv")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.ReLU(max_value=6.0)(h)
    h = L.MaxPooling2D(2)(h)
    h = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(h)
    h = L.SeparableConv2D(5, 3, padding="valid")(h)
    h = L.AveragePooling2D(2, padding="same")(h)
    h = L.Conv2D(3, 1, activation="tanh", kernel_initializer="he_normal")(h)
    h = L.GlobalAveragePooling2D()(h)
    y = L.Dense(3, activation="sigmoid", name="out")(h)
    return k.Model(x, y, name="conv_bn_pool")


def conv_misc(k):
    L = k.layers
    x = k.Input((8, 8, 2), name="x")
    h = L.ZeroPadding2D(1)(x)
    h = L.Conv2DTranspose(3, 3, strides=2, padding="same")(h)
    h = L.Cropping2D(2)(h)
    h = L.UpSampling2D(2)(h)
    h = L.Conv2D(2, 5, strides=3, activation="elu")(h)
    h = L.LayerNormalization()(h)
    h = L.Flatten()(h)
    h = L.Reshape((2, -1))(h)
    h = L.Conv1D(4, 2, padding="causal")(h)
    h = L.GlobalMaxPooling1D()(h)
    y = L.PReLU()(h)
    return k.Model(x, y, name="conv_misc")


def volume(k):
    L = k.layers
    x = k.Input((4, 6, 6, 2), name="clip")
    h = L.Conv3D(3, 3, padding="same", activation="relu")(x)
    h = L.MaxPooling3D((1, 2, 2))(h)
    h = L.ConvLSTM2D(2, 3, padding="same", return_sequences=False)(h)
    h = L.GlobalAveragePooling2D()(h)
    return k.Model(x, L.Dense(2)(h), name="volume")


def recurrent(k):
    L = k.layers
    x = k.Input((7, 5), name="seq")
    h = L.LSTM(6, return_sequences=True)(x)
    h = L.GRU(4, return_sequences=True)(h)
    h = L.SimpleRNN(3, return_sequences=True, go_backwards=True)(h)
    h = L.Bidirectional(L.LSTM(3), merge_mode="concat")(h)
    return k.Model(x, L.Dense(2)(h), name="recurrent")


def video(k):
    """TimeDistributed CNN + Bidirectional GRU, as the video models of the project."""
    L = k.layers
    x = k.Input((4, 10, 10, 2), name="frames")
    h = L.TimeDistributed(L.Conv2D(3, 3, activation="relu"))(x)
    h = L.TimeDistributed(L.MaxPooling2D(2))(h)
    h = L.TimeDistributed(L.Flatten())(h)
    h = L.TimeDistributed(L.Dense(6, activation="tanh"))(h)
    h = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum")(h)
    h = L.GlobalAveragePooling1D()(h)
    return k.Model(x, L.Dense(3, activation="softmax")(h), name="video")


def nested_multi_input(k):
    """Two inputs, a nested Sequential and a nested functional model, two outputs."""
    L = k.layers
    seq = k.Sequential([k.Input((6,)), L.Dense(5, activation="relu"), L.BatchNormalization()], name="branch_a")
    bi = k.Input((5,), name="branch_b_in")
    fun = k.Model(bi, L.Dense(5, activation="tanh")(L.Dense(7)(bi)), name="branch_b")
    a, b = k.Input((6,), name="a"), k.Input((5,), name="b")
    fb = fun(b)
    joined = L.Concatenate()([seq(a), fb])
    y1 = L.Dense(3, name="head1")(joined)
    y2 = L.Add(name="head2")([L.Dense(5)(joined), fb])
    return k.Model([a, b], [y1, y2], name="nested_multi_input")


def shared_nested(k):
    """A nested Sequential called twice and a nested functional model as the output."""
    L = k.layers
    enc = k.Sequential([k.Input((4,)), L.Dense(6, activation="relu"), L.Dense(3)], name="encoder")
    hi = k.Input((3,), name="head_in")
    head = k.Model(hi, L.Dense(2)(hi), name="head")
    x1, x2 = k.Input((4,), name="x1"), k.Input((4,), name="x2")
    return k.Model([x1, x2], head(L.Subtract()([enc(x1), enc(x2)])), name="shared_nested")


def frozen_nested(k):
    """A frozen nested model: its weights come last in the legacy order."""
    L = k.layers
    inner = k.Sequential([k.Input((5,)), L.BatchNormalization(), L.Dense(4)], name="frozen")
    inner.trainable = False
    x = k.Input((5,), name="x")
    return k.Model(x, L.Dense(2)(inner(x)), name="frozen_nested")


def embedding(k):
    L = k.layers
    x = k.Input((6,), name="tokens")
    h = L.Embedding(12, 4)(x)
    h = L.GlobalAveragePooling1D()(h)
    return k.Model(x, L.Dense(2)(h), name="embedding")


def merge_misc(k):
    """Merging, normalization, rescaling, einsum and reshaping layers."""
    L = k.layers
    a, b = k.Input((4, 6), name="a"), k.Input((4, 6), name="b")
    parts = [L.Multiply()([a, b]), L.Average()([a, b]), L.Maximum()([a, b]), L.Minimum()([a, b]), L.Subtract()([a, b])]
    h = L.Concatenate(axis=-1)(parts)
    h = L.Rescaling(0.5, offset=0.1)(h)
    h = L.GroupNormalization(groups=5)(h)
    h = L.EinsumDense("abc,cd->abd", output_shape=(4, 8), bias_axes="d")(h)
    h = L.ELU(alpha=0.5)(L.Permute((2, 1))(h))
    h = L.RepeatVector(2)(L.UnitNormalization()(L.Flatten()(h)))
    d = L.Dot(axes=(2, 2))([h, h])
    return k.Model([a, b], L.Softmax()(L.Flatten()(d)), name="merge_misc")


def dict_io(k):
    """Inputs and outputs given as dicts: Keras 3 writes `input_layers` and
    `output_layers` as dicts and flattens them in sorted key order."""
    L = k.layers
    rgb, flow = k.Input((5,), name="rgb"), k.Input((3,), name="flow")
    h = L.Concatenate(name="join")([L.Dense(4, activation="relu", name="rgb_dense")(rgb), flow])
    return k.Model({"rgb": rgb, "flow": flow},
                   {"logits": L.Dense(3, name="logits")(h), "aux": L.Dense(1, name="aux")(flow)}, name="dict_io")


MODEL_CASES = {
    "dense_mlp": (dense_mlp, lambda x: [x(5, 8)]),
    "conv_bn_pool": (conv_bn_pool, lambda x: [x(3, 12, 12, 3)]),
    "conv_misc": (conv_misc, lambda x: [x(2, 8, 8, 2)]),
    "volume": (volume, lambda x: [x(2, 4, 6, 6, 2)]),
    "recurrent": (recurrent, lambda x: [x(3, 7, 5)]),
    "video": (video, lambda x: [x(2, 4, 10, 10, 2)]),
    "nested_multi_input": (nested_multi_input, lambda x: [x(4, 6), x(4, 5)]),
    "shared_nested": (shared_nested, lambda x: [x(3, 4), x(3, 4)]),
    "frozen_nested": (frozen_nested, lambda x: [x(3, 5)]),
    "embedding": (embedding, lambda x: [np.floor((x(4, 6) + 1) * 6).astype(np.float32)]),
    "merge_misc": (merge_misc, lambda x: [x(3, 4, 6), x(3, 4, 6)]),
    # Inputs and outputs in sorted key order: flow, rgb; aux, logits.
    "dict_io": (dict_io, lambda x: [x(3, 3), x(3, 5)]),
}
# Cases also written by tf-keras (`<case>_keras2.h5`).
KERAS2_CASES = ["dense_mlp", "conv_bn_pool", "recurrent", "video", "nested_multi_input", "shared_nested", "frozen_nested",
                "merge_misc"]
# Cases also saved as Keras 3 `.weights.h5` and as tf-keras `save_weights` files.
WEIGHTS_CASES = ["conv_bn_pool", "recurrent", "nested_multi_input"]


def randomize(model, rng):
    """Random weights, positive variances: every weight shows in the output."""
    for w in model.weights:
        name = w.path if hasattr(w, "path") else w.name
        shape = tuple(w.shape)
        value = rng.uniform(0.5, 1.5, shape) if "variance" in name else rng.uniform(-0.6, 0.6, shape)
        w.assign(value.astype(np.float32))


def save_model_case(case, k, inputs, tag, ext, rng):
    build = MODEL_CASES[case][0]
    model = build(k)
    randomize(model, rng)
    feed = inputs if len(inputs) > 1 else inputs[0]
    structure = getattr(model, "_inputs_struct", None)  # Keras 3 functional models
    if isinstance(structure, dict):
        feed = dict(zip(sorted(structure), inputs))
    outputs = model.predict(feed, verbose=0)
    if isinstance(outputs, dict):
        outputs = [outputs[key] for key in sorted(outputs)]
    outputs = outputs if isinstance(outputs, list) else [outputs]
    name = f"{case}_{tag}"
    for i, x in enumerate(inputs):
        np.save(MODELS / f"{name}.in{i}.npy", x)
    for j, y in enumerate(outputs):
        np.save(MODELS / f"{name}.out{j}.npy", y)
    version = k.__version__
    meta = {"keras_version": version, "file": f"{name}.{ext}", "inputs": len(inputs), "outputs": len(outputs)}
    model.save(MODELS / f"{name}.{ext}")
    if case in WEIGHTS_CASES:
        weights = f"{name}.weights.h5" if k is keras else f"{name}.weights_only.h5"
        model.save_weights(MODELS / weights)
        meta["weights_file"] = weights
    (MODELS / f"{name}.json").write_text(json.dumps(meta, indent=1))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    MODELS.mkdir(parents=True, exist_ok=True)
    for folder in (OUT, MODELS):
        for f in folder.iterdir():
            f.unlink()
    rng = np.random.default_rng(9)
    x = lambda *s: rng.uniform(-1, 1, size=s).astype(np.float32)
    for k, tag in ((keras, "keras3"), (tf_keras, "keras2")):
        keras2 = k is tf_keras
        save(f"nested_{tag}", nested_functional(k), [x(3, 4)], rng, keras2)
        save(f"multi_io_{tag}", multi_io(k), [x(3, 3), x(3, 2)], rng, keras2)
        save(f"sequential_without_input_{tag}", sequential_without_input(k), [x(3, 4)], rng, keras2)
    for case, (_, make_inputs) in MODEL_CASES.items():
        inputs = make_inputs(x)
        save_model_case(case, keras, inputs, "keras3", "keras", rng)
        if case in KERAS2_CASES:
            save_model_case(case, tf_keras, inputs, "keras2", "h5", rng)


if __name__ == "__main__":
    main()
