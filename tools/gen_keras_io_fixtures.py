"""Fixtures for the KerasIO tests: model configs as Keras 3 and tf-keras
write them (`model.to_json()`), each layer's weights, an input and Keras's
prediction.

Run: cd tools && ../.venv/bin/python gen_keras_io_fixtures.py
Files: Tests/KerasIOTests/Fixtures/configs/<case>.json (config and metadata),
<case>.h5 (the model saved by that Keras in the legacy HDF5 format),
<case>.<layer>.w<k>.npy, <case>.in<i>.npy, <case>.out<j>.npy
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tf_keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/configs"


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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        f.unlink()
    rng = np.random.default_rng(9)
    x = lambda *s: rng.uniform(-1, 1, size=s).astype(np.float32)
    for k, tag in ((keras, "keras3"), (tf_keras, "keras2")):
        keras2 = k is tf_keras
        save(f"nested_{tag}", nested_functional(k), [x(3, 4)], rng, keras2)
        save(f"multi_io_{tag}", multi_io(k), [x(3, 3), x(3, 2)], rng, keras2)
        save(f"sequential_without_input_{tag}", sequential_without_input(k), [x(3, 4)], rng, keras2)


if __name__ == "__main__":
    main()
