"""Fixtures for OperationNodeTests: functional models that call `keras.ops`
(Keras 3) or TensorFlow functions (tf-keras `TFOpLambda`/`SlicingOpLambda`)
on symbolic tensors, saved by Keras 3 as `.keras` and `.h5` and by tf-keras
as `.h5`, with an input and Keras's prediction, into
Tests/KerasIOTests/Fixtures/operations/: <case>.<ext>, <case>.in<i>.npy,
<case>.out<j>.npy, <case>.json (writer version and counts).
`unsupported_keras3.keras` calls an op the loader does not support.

Run: .venv/bin/python tools/gen_operation_fixtures.py
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras import ops
import tensorflow as tf
import tf_keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/operations"


def keras3_model():
    x = keras.Input((3, 4, 5), name="x")
    y = keras.Input((3, 4, 5), name="y")
    h = keras.layers.Dense(5, name="dense")(x)
    outputs = [
        ops.mean(h, axis=(2, 3)), ops.sum(h, axis=1, keepdims=True), ops.max(h, axis=-1), ops.min(h, axis=(1, 2)),
        h[:, 0], h[:, 1:3, ::2, -1], h[..., None], h[:, ::-1, 1], h[:, None, -2:],
        ops.concatenate([h, y], axis=-1), ops.reshape(h, (-1, 2, 30)), ops.reshape(h, (-1, 12, 5)),
        ops.transpose(h, (0, 2, 1, 3)), ops.transpose(h, (0, 3, 1, 2)), ops.expand_dims(h, 1),
        ops.squeeze(ops.expand_dims(h, 2), axis=2), ops.sqrt(ops.abs(h)), ops.abs(h), ops.square(h), h ** 2,
        ops.power(h, 3), h / y, ops.power(y, h),
    ]
    return keras.Model([x, y], outputs)


def keras2_model():
    k = tf_keras
    x = k.Input((3, 4, 5), name="x")
    y = k.Input((3, 4, 5), name="y")
    h = k.layers.Dense(5, name="dense")(x)
    outputs = [
        tf.math.reduce_mean(h, axis=(2, 3)), tf.reduce_sum(h, axis=1, keepdims=True), tf.reduce_max(h, -1),
        tf.reduce_min(h, axis=[1, 2]), h[:, 0], h[:, 1:3, ::2, -1], h[..., None], h[:, ::-1, 1],
        tf.concat([h, y], axis=-1), tf.reshape(h, (-1, 2, 30)), tf.transpose(h, (0, 2, 1, 3)), tf.transpose(h, (0, 3, 1, 2)),
        tf.expand_dims(h, 1), tf.squeeze(tf.expand_dims(h, 2), axis=2), tf.math.sqrt(tf.abs(h)), tf.square(h), h ** 2,
        tf.pow(h, 3), h / y,
    ]
    return k.Model([x, y], outputs)


def unsupported_model():
    x = keras.Input((3, 4), name="x")
    return keras.Model(x, ops.sort(x, axis=1))


def save(name, model, ext, inputs, version, out=OUT):
    """Writes `name`.`ext`, its inputs, Keras's outputs and a JSON note of the
    writer's version and the file into `out`."""
    outputs = model.predict(inputs, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    for i, v in enumerate(inputs):
        np.save(out / f"{name}.in{i}.npy", v)
    for j, v in enumerate(outputs):
        np.save(out / f"{name}.out{j}.npy", np.asarray(v, dtype=np.float32))
    model.save(out / f"{name}.{ext}")
    meta = {"keras_version": version, "file": f"{name}.{ext}", "inputs": len(inputs), "outputs": len(outputs)}
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        f.unlink()
    rng = np.random.default_rng(5)
    inputs = [rng.uniform(-1, 1, (2, 3, 4, 5)).astype(np.float32), rng.uniform(0.5, 2, (2, 3, 4, 5)).astype(np.float32)]
    m3 = keras3_model()
    save("ops_keras3", m3, "keras", inputs, keras.__version__)
    save("ops_keras3_h5", m3, "h5", inputs, keras.__version__)
    save("ops_keras2", keras2_model(), "h5", inputs, tf_keras.__version__)
    save("unsupported_keras3", unsupported_model(), "keras", [inputs[0][:, :, :, 0]], keras.__version__)


if __name__ == "__main__":
    main()
