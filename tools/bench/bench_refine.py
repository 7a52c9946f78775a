"""`make bench`: the refine step of a deltaized MobileNetV2 in Swift against
the same step in TensorFlow with the keras_delta layer.

MobileNetV2 (alpha 0.35, 96x96, weights=None, BatchNorm statistics set) is
deltaized by `keras-delta deltaize` (clip length 8, the .keras it writes).
Both engines run SGD(1e-3, momentum 0.9) steps with sparse crossentropy plus
the delta losses and the accuracy metric on one batch of 2 clips x 8 frames
(16 frames, per-frame labels): Swift with `keras-delta bench refine`,
TensorFlow with `train_on_batch` of that file loaded by Keras 3 after
`import keras_delta`. The engines alternate, each run in a fresh process with
the same thread count; each timing is of N steps after 3 warm-up steps.
The ratio is Swift frames/s over TensorFlow frames/s (the median of the
per-pair ratios; above 1 means Swift is faster).

Run: .venv/bin/python tools/bench/bench_refine.py [--repeats N] [--steps N] [--binary PATH] [--json FILE]
     .venv/bin/python tools/bench/bench_refine.py tf MODEL.keras --steps N --threads T   (one TensorFlow timing)
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / ".fixtures/bench"
PYTHON = sys.executable
CLIP, CLIPS = 8, 2


def time_tf(path, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, str(ROOT / "tools/keras_delta"))  # this checkout's keras_delta, installed or not
    import numpy as np
    import tensorflow as tf
    import keras
    import keras_delta  # noqa: F401  (registers DeltaActivation)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    model = keras.models.load_model(path)
    deltas = [l for l in model.layers if isinstance(l, keras_delta.DeltaActivation)]
    assert deltas and all(d.clip_length == CLIP for d in deltas), "expected delta layers with clip_length 8"
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batch = CLIP * CLIPS
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(batch,) + tuple(model.input_shape[1:])).astype("float32")
    y = ((np.arange(batch) // CLIP) % model.output_shape[-1]).astype("int32")
    for _ in range(3):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        logs = model.train_on_batch(x, y, return_dict=True)
    seconds = time.perf_counter() - start
    return {"workload": f"refine {os.path.basename(path)} {CLIPS} clips x {CLIP} frames", "engine": "tensorflow",
            "frames_per_second": batch * steps / seconds, "seconds_per_step": seconds / steps,
            "delta_layers": len(deltas), "loss": float(logs["loss"])}


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no result in output:\n{text}")


def run(args):
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "tf":
        p = argparse.ArgumentParser()
        p.add_argument("mode")
        p.add_argument("model")
        p.add_argument("--steps", type=int, default=10)
        p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
        a = p.parse_args()
        print(json.dumps(time_tf(a.model, a.steps, a.threads)))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5, help="alternating runs of each engine")
    p.add_argument("--steps", type=int, default=10, help="timed steps per run")
    p.add_argument("--binary", default=str(ROOT / ".build/release/keras-delta"), help="the keras-delta executable")
    p.add_argument("--json", help="write the results here")
    a = p.parse_args()
    threads = os.cpu_count() or 2
    dense = MODELS / "mobilenetv2.h5"
    delta = MODELS / "mobilenetv2_delta.keras"
    if not dense.exists():
        run([PYTHON, str(ROOT / "tools/bench/keras_workloads.py"), "models", str(MODELS)])
    if not delta.exists() or delta.stat().st_mtime < dense.stat().st_mtime:
        run([a.binary, "deltaize", str(dense), str(delta), "--clip-length", str(CLIP)])
    swift_json = MODELS / "refine_swift.json"
    print(f"refine step, deltaized mobilenetv2 (alpha 0.35, 96x96), {CLIPS} clips x {CLIP} frames, "
          f"SGD momentum 0.9; threads {threads}, load average {os.getloadavg()[0]:.2f}", flush=True)
    runs = []
    for i in range(max(1, a.repeats)):
        tf = last_json(run([PYTHON, __file__, "tf", str(delta), "--steps", str(a.steps), "--threads", str(threads)]))
        run([a.binary, "bench", "refine", "--model", str(delta), "--clip-length", str(CLIP), "--clips", str(CLIPS),
             "--steps", str(a.steps), "--json", str(swift_json)])
        sw = json.loads(swift_json.read_text())
        runs.append((tf, sw))
        print(f"  pair {i + 1}: TensorFlow {tf['frames_per_second']:.1f} f/s, Swift {sw['frames_per_second']:.1f} f/s, "
              f"ratio {sw['frames_per_second'] / tf['frames_per_second']:.2f}", flush=True)
    ratios = [sw["frames_per_second"] / tf["frames_per_second"] for tf, sw in runs]
    tf_median = statistics.median(tf["frames_per_second"] for tf, _ in runs)
    sw_median = statistics.median(sw["frames_per_second"] for _, sw in runs)
    ratio = statistics.median(ratios)
    print(f"refine mobilenetv2 deltaized batch {CLIP * CLIPS}: TensorFlow {tf_median:.1f} f/s, Swift {sw_median:.1f} f/s, "
          f"Swift/TF {ratio:.2f}x (goal 1.5x); load average {os.getloadavg()[0]:.2f} after")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps({"workload": "refine mobilenetv2 deltaized batch 16",
                                                    "tensorflow_median": tf_median, "swift_median": sw_median,
                                                    "ratio": ratio, "ratios": ratios,
                                                    "runs": [{"tensorflow": t, "swift": s} for t, s in runs]}, indent=1))


if __name__ == "__main__":
    main()
