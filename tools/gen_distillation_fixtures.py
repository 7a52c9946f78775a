"""Golden fixtures for the distillation losses, computed by real TensorFlow/Keras 3.

Run: .venv/bin/python tools/gen_distillation_fixtures.py

Writes Tests/TrainingTests/Fixtures/distillation.json: for each case, the
teacher's and the student's outputs, the loss value and its gradient with
respect to the student's outputs (tf.GradientTape).

- `kl` cases: Hinton et al.'s loss as Keras's knowledge-distillation example
  computes it: keras.losses.KLDivergence()(softmax(teacher / T),
  softmax(student / T), sample_weight) * T**2, on logits.
- `kl_probabilities`: the same on probabilities p, whose logits are taken as
  log(clip(p, 1e-7, 1)) (the Swift loss with from_logits=False on outputs
  without kept logits).
- `mse` cases: keras.losses.MeanSquaredError()(teacher, student) on logits and
  on feature maps [N, H, W, C].
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/TrainingTests/Fixtures/distillation.json"


def array_json(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": a.reshape(-1).astype(np.float64).tolist()}


def kl(teacher, student, temperature, sample_weight=None):
    t = keras.ops.softmax(teacher / temperature, axis=-1)
    s = keras.ops.softmax(student / temperature, axis=-1)
    return keras.losses.KLDivergence()(t, s, sample_weight=sample_weight) * (temperature ** 2)


def case(name, kind, teacher, student, fn, temperature=None, sample_weight=None, from_logits=True):
    teacher = tf.constant(teacher, tf.float32)
    student = tf.constant(student, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(student)
        value = fn(teacher, student)
    grad = tape.gradient(value, student)
    return {
        "name": name, "kind": kind, "temperature": temperature, "from_logits": from_logits,
        "teacher": array_json(teacher), "student": array_json(student),
        "sample_weight": None if sample_weight is None else array_json(sample_weight),
        "value": float(value.numpy()), "grad": array_json(grad),
    }


def main():
    rng = np.random.default_rng(11)
    cases = []
    for temperature in [1.0, 2.0, 4.0]:
        teacher = rng.normal(0, 3, (4, 5)).astype(np.float32)
        student = rng.normal(0, 3, (4, 5)).astype(np.float32)
        cases.append(case(f"kl_T{temperature:g}", "kl", teacher, student,
                          lambda t, s, T=temperature: kl(t, s, T), temperature=temperature))
    teacher = rng.normal(0, 2, (3, 6)).astype(np.float32)
    student = rng.normal(0, 2, (3, 6)).astype(np.float32)
    weight = np.array([1.0, 0.5, 2.0], np.float32)
    cases.append(case("kl_T3_weighted", "kl", teacher, student,
                      lambda t, s: kl(t, s, 3.0, sample_weight=tf.constant(weight)),
                      temperature=3.0, sample_weight=weight))
    # Probabilities in; logits are their clipped logs.
    tp = tf.nn.softmax(rng.normal(0, 2, (3, 4)).astype(np.float32)).numpy()
    sp = tf.nn.softmax(rng.normal(0, 2, (3, 4)).astype(np.float32)).numpy()
    to_logits = lambda p: tf.math.log(tf.clip_by_value(p, 1e-7, 1.0))
    cases.append(case("kl_probabilities_T2", "kl", tp, sp,
                      lambda t, s: kl(to_logits(t), to_logits(s), 2.0), temperature=2.0, from_logits=False))
    mse = keras.losses.MeanSquaredError()
    teacher = rng.normal(0, 1, (4, 7)).astype(np.float32)
    student = rng.normal(0, 1, (4, 7)).astype(np.float32)
    cases.append(case("mse_logits", "mse", teacher, student, lambda t, s: mse(t, s)))
    teacher = rng.normal(0, 1, (2, 3, 3, 4)).astype(np.float32)
    student = rng.normal(0, 1, (2, 3, 3, 4)).astype(np.float32)
    cases.append(case("mse_features", "mse", teacher, student, lambda t, s: mse(t, s)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
                               "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
