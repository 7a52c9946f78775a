"""The TensorFlow side of `make bench`: builds the benchmark models (weights=None,
so nothing is downloaded), saves them for the Swift side, and times the same
workloads in TensorFlow with the same thread count.

  python keras_workloads.py models OUT_DIR [--only a,b]   # writes MODELS as OUT_DIR/<name>.h5
  python keras_workloads.py serve --threads 2      # JSON requests on stdin, results on stdout
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


_threads = None


def set_threads(n):
    """TensorFlow's thread pools, set once per process (TF refuses later changes)."""
    global _threads
    if _threads is not None:
        return
    _threads = n
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


# name: (builder(keras) -> model, file suffix: ".h5", ".keras" or "_tfkeras.h5"
# for tf-keras). Every keras.applications family of
# the coverage suite (tools/gen_application_models.py), smallest variant, at a
# small input, plus three video models. RegNet exists only in tf-keras.
def _app(cls, size, **kw):
    return lambda k: getattr(k.applications, cls)(input_shape=(size, size, 3), weights=None, classes=10, **kw)


def _c3d(k):
    L = k.layers
    x = k.Input((8, 32, 32, 3))
    h = L.Conv3D(32, 3, padding="same", activation="relu")(x)
    h = L.MaxPooling3D((1, 2, 2))(h)
    h = L.Conv3D(64, 3, padding="same", activation="relu")(h)
    h = L.MaxPooling3D(2)(h)
    h = L.Conv3D(128, 3, padding="same", activation="relu")(h)
    h = L.Conv3D(128, 3, padding="same", activation="relu")(h)
    h = L.MaxPooling3D(2)(h)
    h = L.Flatten()(h)
    h = L.Dense(256, activation="relu")(h)
    return k.Model(x, L.Dense(10, activation="softmax")(h), name="c3d")


def _td_cnn_lstm(k):
    L = k.layers
    x = k.Input((8, 32, 32, 3))
    h = L.TimeDistributed(L.Conv2D(32, 3, padding="same", activation="relu"))(x)
    h = L.TimeDistributed(L.MaxPooling2D(2))(h)
    h = L.TimeDistributed(L.Conv2D(64, 3, padding="same", activation="relu"))(h)
    h = L.TimeDistributed(L.MaxPooling2D(2))(h)
    h = L.TimeDistributed(L.Conv2D(64, 3, padding="same", activation="relu"))(h)
    h = L.TimeDistributed(L.GlobalAveragePooling2D())(h)
    h = L.LSTM(64)(h)
    return k.Model(x, L.Dense(10, activation="softmax")(h), name="td_cnn_lstm")


def _convlstm(k):
    L = k.layers
    x = k.Input((8, 32, 32, 3))
    h = L.ConvLSTM2D(16, 3, padding="same", return_sequences=True)(x)
    h = L.BatchNormalization()(h)
    h = L.ConvLSTM2D(16, 3, padding="same")(h)
    h = L.GlobalAveragePooling2D()(h)
    return k.Model(x, L.Dense(10, activation="softmax")(h), name="convlstm")


MODELS = {
    "mobilenetv2": (_app("MobileNetV2", 96, alpha=0.35), ".h5"),
    "resnet50": (_app("ResNet50", 64), ".h5"),
    "resnet50v2": (_app("ResNet50V2", 32), ".h5"),
    "mobilenet": (_app("MobileNet", 64, alpha=0.25), ".h5"),
    # Keras 3 cannot load its own legacy .h5 of MobileNetV3 (the `x + 3.0` of
    # hard_sigmoid becomes a positional float argument).
    "mobilenetv3small": (_app("MobileNetV3Small", 64, alpha=0.75), ".keras"),
    "mobilenetv3large": (_app("MobileNetV3Large", 64, alpha=0.75), ".keras"),
    "efficientnetb0": (_app("EfficientNetB0", 64), ".h5"),
    "efficientnetv2b0": (_app("EfficientNetV2B0", 64), ".h5"),
    "densenet121": (_app("DenseNet121", 32), ".h5"),
    "inceptionv3": (_app("InceptionV3", 75), ".h5"),
    # Its CustomScaleLayer is registered for .keras files only.
    "inceptionresnetv2": (_app("InceptionResNetV2", 75), ".keras"),
    "xception": (_app("Xception", 71), ".h5"),
    "nasnetmobile": (_app("NASNetMobile", 32), ".h5"),
    "vgg16": (_app("VGG16", 32), ".h5"),
    # Keras 3 cannot load its own legacy .h5 of ConvNeXt (LayerScale's config).
    "convnexttiny": (_app("ConvNeXtTiny", 32), ".keras"),
    "regnetx002": (_app("RegNetX002", 32), "_tfkeras.h5"),
    "c3d": (_c3d, ".h5"),
    "td_cnn_lstm": (_td_cnn_lstm, ".h5"),
    "convlstm": (_convlstm, ".h5"),
}


def model_file(out, name):
    """The file of a benchmark model: tf-keras-written ones carry `_tfkeras`."""
    return os.path.join(out, name + MODELS[name][1])


def make_models(out, only=None):
    import numpy as np
    os.makedirs(out, exist_ok=True)
    for name, (make, suffix) in MODELS.items():
        path = model_file(out, name)
        if (only and name not in only) or os.path.exists(path):
            continue
        if suffix == "_tfkeras.h5":
            import tf_keras as k
        else:
            import keras as k
        rng = np.random.default_rng(0)
        model = make(k)
        # Non-trivial BatchNorm statistics, so inference is not an identity.
        for layer in model.layers:
            if isinstance(layer, k.layers.BatchNormalization):
                mean, var = layer.moving_mean, layer.moving_variance
                mean.assign(rng.normal(0, 0.1, size=mean.shape).astype("float32"))
                var.assign(rng.uniform(0.5, 1.5, size=var.shape).astype("float32"))
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy")
        model.save(path)
        print(path, flush=True)


_loaded = {}


def load(path):
    """The model at `path`, loaded once per process (tf-keras for `_tfkeras` files)."""
    if path not in _loaded:
        if "_tfkeras" in os.path.basename(path):
            import tf_keras as k
        else:
            import keras as k
        _loaded.clear()
        _loaded[path] = (k.models.load_model(path), k)
    return _loaded[path]


def time_train(path, batch, steps, threads, warmup=3):
    import numpy as np
    set_threads(threads)
    model, keras = load(path)
    if not getattr(model, "_bench_compiled", False):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy")
        model._bench_compiled = True
    shape = (batch,) + tuple(model.input_shape[1:])
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=shape).astype("float32")
    y = rng.integers(0, model.output_shape[-1], size=(batch,)).astype("int32")
    for _ in range(warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    seconds = time.perf_counter() - start
    return {"workload": f"train {os.path.basename(path)} batch {batch}", "engine": "tensorflow",
            "frames_per_second": batch * steps / seconds, "seconds_per_step": seconds / steps}


def time_predict(path, batch, steps, threads, warmup=3):
    import numpy as np
    set_threads(threads)
    model, _ = load(path)
    shape = (batch,) + tuple(model.input_shape[1:])
    x = np.random.default_rng(2).uniform(0, 1, size=shape).astype("float32")
    for _ in range(warmup):
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


def serve(threads):
    """One JSON request per stdin line ({"kind", "path", "batch", "steps"}), one
    JSON result per stdout line: `make bench` keeps one TensorFlow process, so
    each model loads and traces once instead of once per timed run."""
    set_threads(threads)
    for line in sys.stdin:
        r = json.loads(line)
        warmup = r.get("warmup", 3)
        if r["kind"] == "train":
            out = time_train(r["path"], r["batch"], r["steps"], threads, warmup)
        else:
            out = time_predict(r["path"], r["batch"], r["steps"], threads, warmup)
        print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["models", "train", "predict", "load", "serve"])
    p.add_argument("path", nargs="?", default=".fixtures/bench")
    p.add_argument("--only", help="models: comma-separated names to write")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.command == "models":
        make_models(a.path, a.only.split(",") if a.only else None)
    elif a.command == "serve":
        serve(a.threads)
    elif a.command == "load":
        print(json.dumps(time_load(a.path, a.steps, a.threads)))
    elif a.command == "train":
        print(json.dumps(time_train(a.path, a.batch_size, a.steps, a.threads)))
    else:
        print(json.dumps(time_predict(a.path, a.batch_size, a.steps, a.threads)))


if __name__ == "__main__":
    sys.exit(main())
