"""Fixtures for Sequential/Functional model tests: Keras's predictions, layer
order (`model.layers`), weight order (`model.weights`) and `summary()` text.

Run: cd tools && ../.venv/bin/python gen_model_fixtures.py
The Swift test (Tests/LayersTests/ModelTests.swift) builds the same graphs by code.
"""
import io
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/LayersTests/Fixtures/models"
L = keras.layers


def sequential():
    return keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu", name="hidden"),
                             L.Dense(3, activation="softmax", name="probs")], name="seq")


def functional():
    """Two inputs, a shared layer, a nested Sequential, two outputs."""
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    inner = keras.Sequential([keras.Input((5,)), L.Dense(6, activation="relu", name="inner_dense")], name="inner")
    ha = inner(sa)
    merged = L.Dense(2, name="head_a")(ha)
    out_b = L.Activation("sigmoid", name="act_b")(L.Dense(3, name="head_b")(sb))
    return keras.Model([a, b], [merged, out_b], name="two_tower")


def save(name, model, inputs, rng):
    for i, w in enumerate(model.weights):
        w.assign(rng.uniform(-0.5, 0.5, size=tuple(w.shape)).astype(np.float32))
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    for i, x in enumerate(inputs):
        np.save(OUT / f"{name}.in{i}.npy", x)
    for j, y in enumerate(outputs):
        np.save(OUT / f"{name}.out{j}.npy", y)
    for k, w in enumerate(model.weights):
        np.save(OUT / f"{name}.w{k}.npy", w.numpy())
    summaries = {}
    for length in (60, 76):  # rich crops captured output at 80 columns
        buf = io.StringIO()
        model.summary(line_length=length, print_fn=lambda s, line_break=False: buf.write(s))
        summaries[str(length)] = buf.getvalue()
    meta = {"keras_version": keras.__version__, "layers": [l.name for l in model.layers],
            "weights": [w.path for w in model.weights], "summary": summaries}
    (OUT / f"{name}.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    x = lambda *s: rng.uniform(-1, 1, size=s).astype(np.float32)
    save("sequential", sequential(), [x(3, 4)], rng)
    save("functional", functional(), [x(3, 4), x(3, 4)], rng)


if __name__ == "__main__":
    main()
