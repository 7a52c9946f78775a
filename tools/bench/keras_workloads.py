"""The TensorFlow side of `make bench`: builds the benchmark models (weights=None,
so nothing is downloaded), saves them for the Swift side, and times the same
workloads in TensorFlow with the same thread count.

  python keras_workloads.py models OUT_DIR          # writes mobilenetv2.h5, resnet50.h5
  python keras_workloads.py train MODEL.h5 --batch-size 16 --steps 20 --threads 2
  python keras_workloads.py predict MODEL.h5 --batch-size 1 --steps 50 --threads 2
  python keras_workloads.py load MODEL.h5 --steps 5 --threads 2

Each timing prints one JSON object: {"workload", "frames_per_second", ...};
`load` prints {"workload", "first_seconds", "warm_seconds", "weight_bytes", "peak_bytes"}.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def set_threads(n):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def make_models(out):
    import numpy as np
    import keras
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    specs = {
        "mobilenetv2": lambda: keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10),
        "resnet50": lambda: keras.applications.ResNet50(input_shape=(64, 64, 3), weights=None, classes=10),
    }
    for name, make in specs.items():
        model = make()
        # Non-trivial BatchNorm statistics, so inference is not an identity.
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                mean, var = layer.moving_mean, layer.moving_variance
                mean.assign(rng.normal(0, 0.1, size=mean.shape).astype("float32"))
                var.assign(rng.uniform(0.5, 1.5, size=var.shape).astype("float32"))
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy")
        model.save(os.path.join(out, f"{name}.h5"))
        print(os.path.join(out, f"{name}.h5"))


def load(path):
    import keras
    return keras.models.load_model(path)


def time_train(path, batch, steps, threads):
    import numpy as np
    import keras
    set_threads(threads)
    model = load(path)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy")
    shape = (batch,) + tuple(model.input_shape[1:])
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=shape).astype("float32")
    y = rng.integers(0, model.output_shape[-1], size=(batch,)).astype("int32")
    for _ in range(3):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    seconds = time.perf_counter() - start
    return {"workload": f"train {os.path.basename(path)} batch {batch}", "engine": "tensorflow",
            "frames_per_second": batch * steps / seconds, "seconds_per_step": seconds / steps}


def time_predict(path, batch, steps, threads):
    import numpy as np
    set_threads(threads)
    model = load(path)
    shape = (batch,) + tuple(model.input_shape[1:])
    x = np.random.default_rng(2).uniform(0, 1, size=shape).astype("float32")
    for _ in range(3):
        model.predict_on_batch(x)
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(x)
    seconds = time.perf_counter() - start
    return {"workload": f"predict {os.path.basename(path)} batch {batch}", "engine": "tensorflow",
            "frames_per_second": batch * steps / seconds, "seconds_per_step": seconds / steps}


def resident_bytes(field):
    """VmRSS (now) or VmHWM (peak) of this process, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return None


def time_load(path, repeats, threads):
    import numpy as np
    import keras
    set_threads(threads)
    # Import and initialize Keras first, so the baseline holds the framework.
    keras.models.clone_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    baseline = resident_bytes("VmRSS:")
    start = time.perf_counter()
    model = keras.models.load_model(path, compile=False)
    first = time.perf_counter() - start
    peak = resident_bytes("VmHWM:") - baseline
    weight_bytes = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    del model
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        keras.models.load_model(path, compile=False)
        times.append(time.perf_counter() - start)
    return {"workload": f"load {os.path.basename(path)}", "engine": "tensorflow", "first_seconds": first,
            "warm_seconds": sorted(times)[len(times) // 2], "weight_bytes": weight_bytes, "peak_bytes": peak}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["models", "train", "predict", "load"])
    p.add_argument("path")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.command == "models":
        make_models(a.path)
    elif a.command == "load":
        print(json.dumps(time_load(a.path, a.steps, a.threads)))
    elif a.command == "train":
        print(json.dumps(time_train(a.path, a.batch_size, a.steps, a.threads)))
    else:
        print(json.dumps(time_predict(a.path, a.batch_size, a.steps, a.threads)))


if __name__ == "__main__":
    sys.exit(main())
