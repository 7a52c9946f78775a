"""Refine-step parity fixtures, computed by real Keras 3 with the keras_delta layer.

Run: .venv/bin/python tools/gen_refine_fixtures.py

Writes Tests/DeltaTests/Fixtures/refine/:

  x.npy, y.npy      3 batches of 2 clips x 4 frames (frames as batch): x is
                    [24, 8, 8, 3] float32, y the per-frame class (float32, [24])
  teacher.keras     the dense CNN (no delta layers), same weights as the students
  <case>/model.keras, <case>/model.h5
                    the deltaized CNN before training:
                    frames -> frames_delta -> conv1 -> bn1 -> relu1 -> relu1_delta
                    -> pool -> conv2 (relu) -> conv2_delta -> gap -> logits (Dense 4),
                    clip_length 4, per-channel thresholds, BN statistics and all
                    weights non-trivial, sparsity_weight and fan_out per layer
  <case>/step<k>.npy
                    every weight after step k (k = 1..3), flat, in the order of
                    `layout` in case.json
  <case>/case.json  layout ([{layer, name, shape}] in `model.weights` order),
                    the optimizer, the threshold-gradient mode, the loss kind and,
                    per step, Keras's logs after that batch (running means, as
                    `fit` reports them)

Cases `lsq`, `paper`, `hybrid`: Keras `fit(x, y, batch_size=8, shuffle=False,
epochs=1)` with SGD(lr, momentum 0.9), SparseCategoricalCrossentropy(from_logits)
and the accuracy metric, so each step's loss is the task loss plus the delta
layers' added losses. Case `teacher` (hybrid gradients) is label-free: its
target is the dense teacher's logits (inference mode), and the loss is
KLDivergence()(softmax(teacher / 2), softmax(student / 2)) * 2**2 plus the
delta losses, which is what Delta/Refine.swift computes with a teacher.
"""
import json
import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "keras_delta"))  # this checkout's keras_delta, installed or not

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_delta  # noqa: E402

tf.config.experimental.enable_op_determinism()

OUT = HERE.parent / "Tests/DeltaTests/Fixtures/refine"
VERSIONS = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__}
CLIP, CLIPS_PER_BATCH, BATCHES = 4, 2, 3
FRAMES = CLIP * CLIPS_PER_BATCH
SHAPE = (8, 8, 3)
CLASSES = 4
LEARNING_RATE = 0.01
TEMPERATURE = 2.0
# (after, sparsity_weight, fan_out, threshold range) of each delta layer.
DELTAS = {
    "frames": (0.01, 72.0, (0.04, 0.08)),
    "relu1": (0.02, 36.0, (0.05, 0.2)),
    "conv2": (0.05, 0.25, (0.05, 0.2)),
}


def build(mode):
    """The CNN; `mode` None builds the dense teacher, else the deltaized student."""
    def delta(h, after):
        if mode is None:
            return h
        weight, fan_out, _ = DELTAS[after]
        return keras_delta.DeltaActivation(sparsity_weight=weight, fan_out=fan_out, clip_length=CLIP,
                                           threshold_gradient=mode, name=f"{after}_delta")(h)

    x = keras.Input(SHAPE, name="frames")
    h = delta(x, "frames")
    h = keras.layers.Conv2D(8, 3, padding="same", name="conv1")(h)
    h = keras.layers.BatchNormalization(name="bn1")(h)
    h = keras.layers.ReLU(name="relu1")(h)
    h = delta(h, "relu1")
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(h)
    h = delta(h, "conv2")
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    y = keras.layers.Dense(CLASSES, name="logits")(h)
    return keras.Model(x, y, name="teacher" if mode is None else f"student_{mode}")


def initial_weights(rng):
    """Per layer name: the weights every model starts from."""
    w = {
        "conv1": [rng.normal(0, 0.4, (3, 3, 3, 8)), rng.normal(0, 0.1, (8,))],
        "bn1": [rng.uniform(0.6, 1.4, (8,)), rng.normal(0, 0.2, (8,)), rng.normal(0.1, 0.2, (8,)),
                rng.uniform(0.3, 1.2, (8,))],
        "conv2": [rng.normal(0, 0.25, (3, 3, 8, 16)), rng.normal(0.05, 0.1, (16,))],
        "logits": [rng.normal(0, 0.6, (16, CLASSES)), rng.normal(0, 0.1, (CLASSES,))],
    }
    channels = {"frames": 3, "relu1": 8, "conv2": 16}
    for after, (_, _, (lo, hi)) in DELTAS.items():
        w[f"{after}_delta"] = [rng.uniform(lo, hi, (channels[after],))]
    return {k: [np.asarray(a, np.float32) for a in v] for k, v in w.items()}


def set_weights(model, weights):
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(weights[layer.name])


def data(rng):
    """Clips: a smooth image per clip that drifts and flickers a little from frame to frame."""
    clips = CLIPS_PER_BATCH * BATCHES
    base = rng.uniform(0, 1, (clips, 1) + SHAPE)
    drift = np.cumsum(rng.normal(0, 0.04, (clips, CLIP) + SHAPE), axis=1)
    x = np.clip(base + drift, 0, 1).astype(np.float32).reshape((clips * CLIP,) + SHAPE)
    labels = rng.integers(0, CLASSES, clips)
    y = np.repeat(labels, CLIP).astype(np.float32)
    y[5] = (y[5] + 1) % CLASSES  # per-frame labels: one frame disagrees with its clip
    return x, y


def layout(model):
    out = []
    for layer in model.layers:
        for v in layer.weights:
            out.append({"layer": layer.name, "name": v.name, "shape": list(v.shape)})
    return out


def flat(model):
    return np.concatenate([np.asarray(v.numpy(), np.float32).reshape(-1)
                           for layer in model.layers for v in layer.weights])


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights, self.logs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(flat(self.model))
        self.logs.append({k: float(v) for k, v in (logs or {}).items()})


def distillation(y_true, y_pred):
    t = keras.ops.softmax(y_true / TEMPERATURE, axis=-1)
    s = keras.ops.softmax(y_pred / TEMPERATURE, axis=-1)
    return keras.losses.KLDivergence()(t, s) * (TEMPERATURE ** 2)


def run_case(name, mode, weights, x, y, teacher):
    folder = OUT / name
    folder.mkdir(parents=True)
    keras.utils.clear_session()
    model = build(mode)
    set_weights(model, weights)
    model.save(folder / "model.keras")
    model.save(folder / "model.h5")
    start = flat(model)
    optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)
    if teacher is None:
        model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        target, loss = y, "sparse_categorical_crossentropy"
    else:
        model.compile(optimizer=optimizer, loss=distillation)
        target, loss = teacher.predict(x, batch_size=FRAMES, verbose=0), "teacher_kl"
    recorder = Recorder()
    model.fit(x, target, batch_size=FRAMES, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    assert len(recorder.weights) == BATCHES
    for k, w in enumerate(recorder.weights, 1):
        np.save(folder / f"step{k}.npy", w)
    spec = {**VERSIONS, "threshold_gradient": mode, "loss": loss, "temperature": TEMPERATURE,
            "optimizer": keras.optimizers.serialize(optimizer), "batch_size": FRAMES, "clip_length": CLIP,
            "layout": layout(model), "logs": recorder.logs}
    (folder / "case.json").write_text(json.dumps(spec, indent=1))
    # The steps must move the thresholds of every layer well beyond the test's tolerance.
    offset, moved = 0, []
    for entry in spec["layout"]:
        n = int(np.prod(entry["shape"]))
        if entry["name"] == "threshold":
            a, b = start[offset:offset + n], recorder.weights[-1][offset:offset + n]
            moved.append(float(np.median(np.abs(b - a) / np.abs(a))))
        offset += n
    print(f"{name:8s} losses {[round(l['loss'], 5) for l in recorder.logs]}  "
          f"median relative threshold change per layer {[f'{m:.1e}' for m in moved]}")
    assert min(moved) > 1e-3, f"{name}: a threshold hardly moved"
    return recorder.weights[-1]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(2026)
    weights = initial_weights(rng)
    x, y = data(rng)
    np.save(OUT / "x.npy", x)
    np.save(OUT / "y.npy", y)
    teacher = build(None)
    set_weights(teacher, weights)
    teacher.save(OUT / "teacher.keras")
    finals = {}
    for mode in ["lsq", "paper", "hybrid"]:
        finals[mode] = run_case(mode, mode, weights, x, y, None)
    finals["teacher"] = run_case("teacher", "hybrid", weights, x, y, teacher)
    names = list(finals)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not np.allclose(finals[a], finals[b], rtol=1e-3), f"{a} and {b} end on the same weights"
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
