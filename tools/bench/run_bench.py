"""`make bench`: each workload in TensorFlow and in Swift, back to back on
the same machine with the same thread count, and their ratio.

Models (tools/bench/keras_workloads.py MODELS): one per keras.applications
family of the coverage suite, at small inputs, plus three video models
(Conv3D, TimeDistributed CNN + LSTM, ConvLSTM2D). Each gets predict at batch
1 and 16 and SGD training at batch 16; ResNet50 also gets the load benchmark.

TensorFlow runs in one long-lived process (`keras_workloads.py serve`), so
each model loads and traces once; Swift runs `keras-delta bench` per run. The
two engines alternate `--repeats` times per workload (Swift, then TF, then
Swift...), so both see the same machine load; the table shows the median of
each engine's runs and the median of the per-pair ratios (Swift over
TensorFlow throughput, or TensorFlow over Swift load time: above 1 means
Swift is faster). The number of timed steps is set per workload from a first
TensorFlow run, so each timed run lasts about `--seconds`.

Run: .venv/bin/python tools/bench/run_bench.py [--quick] [--repeats N] [--only TEXT] [--binary PATH] [--json FILE]
     [--models a,b] [--dir MODELS_DIR]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_MODELS = ROOT / ".fixtures/bench"
PYTHON = sys.executable
WORKLOADS = ROOT / "tools/bench/keras_workloads.py"
sys.path.insert(0, str(WORKLOADS.parent))
import keras_workloads  # noqa: E402  (only its model table; TensorFlow is not imported here)

VIDEO = {"c3d", "td_cnn_lstm", "convlstm"}


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no result in output:\n{text}")


class TensorFlow:
    """The TensorFlow side: one `serve` process, one JSON line per request."""

    def __init__(self, threads):
        self.proc = subprocess.Popen([PYTHON, str(WORKLOADS), "serve", "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def run(self, kind, model, batch, steps, warmup):
        self.proc.stdin.write(json.dumps({"kind": kind, "path": str(model), "batch": batch, "steps": steps,
                                          "warmup": warmup}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the TensorFlow worker stopped on {kind} {model}")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def run_tf_load(model, repeats, threads):
    out = subprocess.run([PYTHON, str(WORKLOADS), "load", str(model), "--steps", str(repeats), "--threads", str(threads)],
                         capture_output=True, text=True, check=True)
    return last_json(out.stdout)


def run_swift(binary, kind, model, batch, steps):
    tmp = model.parent / "swift_result.json"
    args = [str(binary), "bench", kind, "--model", str(model), "--json", str(tmp)]
    args += ["--repeats", str(steps)] if kind == "load" else ["--batch-size", str(batch), "--steps", str(steps)]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(tmp.read_text())


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="shorter timed runs")
    p.add_argument("--repeats", type=int, default=3, help="alternating runs of each engine per workload")
    p.add_argument("--seconds", type=float, default=0.6, help="target length of one timed run")
    p.add_argument("--binary", default=str(ROOT / ".build/release/keras-delta"), help="the keras-delta executable")
    p.add_argument("--only", help="run only workloads whose label contains this (comma-separated alternatives)")
    p.add_argument("--models", help="comma-separated model names to run, in this order (default: all)")
    p.add_argument("--json", help="write all results here")
    p.add_argument("--dir", default=str(DEFAULT_MODELS), help="where the benchmark models are (written if missing)")
    a = p.parse_args()
    MODELS = pathlib.Path(a.dir)
    threads = os.cpu_count() or 2
    target = a.seconds / (2 if a.quick else 1)
    files = {name: pathlib.Path(keras_workloads.model_file(str(MODELS), name)) for name in keras_workloads.MODELS}
    missing = [name for name, f in files.items() if not f.exists()]
    if missing:
        subprocess.run([PYTHON, str(WORKLOADS), "models", str(MODELS), "--only", ",".join(missing)], check=True,
                       capture_output=True)
    workloads = []
    for name in (a.models.split(",") if a.models else keras_workloads.MODELS):
        workloads += [("predict", name, 1), ("predict", name, 16), ("train", name, 16)]
    if not a.models or "resnet50" in a.models.split(","):
        workloads.append(("load", "resnet50", 0))
    only = a.only.split(",") if a.only else None
    tf = TensorFlow(threads)
    print(f"threads {threads}, load average {load_average()} (1, 5, 15 min)")
    print(f"{'workload':<40} {'steps':>5} {'TensorFlow':>12} {'Swift':>12} {'Swift/TF':>9}  per-pair ratios")
    rows = []
    for kind, name, batch in workloads:
        model = files[name]
        label = f"{kind} {model.name}" + (f" batch {batch}" if kind != "load" else "")
        if only and not any(o in label for o in only):
            continue
        runs = []
        if kind == "load":
            steps = 5
            for _ in range(max(1, a.repeats)):
                sw = run_swift(a.binary, kind, model, batch, steps)
                runs.append((run_tf_load(model, steps, threads), sw))
            value = lambda r: r["warm_seconds"]
            ratios = [value(t) / value(s) for t, s in runs]
        else:
            # A first TensorFlow run (after its warm-up and tracing) sets the step count.
            probe = tf.run(kind, model, batch, 2, 3)
            steps = max(5, min(200, round(target / probe["seconds_per_step"])))
            for _ in range(max(1, a.repeats)):
                sw = run_swift(a.binary, kind, model, batch, steps)
                runs.append((tf.run(kind, model, batch, steps, 1), sw))
            value = lambda r: r["frames_per_second"]
            ratios = [value(s) / value(t) for t, s in runs]
        tf_median = statistics.median(value(t) for t, _ in runs)
        sw_median = statistics.median(value(s) for _, s in runs)
        ratio = statistics.median(ratios)
        rows.append({"workload": label, "video": name in VIDEO, "steps": steps,
                     "runs": [{"tensorflow": t, "swift": s} for t, s in runs],
                     "tensorflow_median": tf_median, "swift_median": sw_median, "ratio": ratio, "ratios": ratios})
        fmt = "{:>10.3f} s" if kind == "load" else "{:>8.1f} f/s"
        print(f"{label:<40} {steps:>5} {fmt.format(tf_median):>12} {fmt.format(sw_median):>12} {ratio:>8.2f}x  "
              + " ".join(f"{r:.2f}" for r in ratios), flush=True)
        if kind == "load":
            t, s = runs[-1]
            for engine, r in (("TensorFlow", t), ("Swift", s)):
                print(f"  {engine}: weights {r['weight_bytes'] / 1e6:.1f} MB, peak memory of the first load "
                      f"{r['peak_bytes'] / 1e6:.1f} MB ({r['peak_bytes'] / r['weight_bytes']:.2f}x), "
                      f"first load {r['first_seconds']:.3f} s")
        if a.json:
            pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))
    tf.close()
    below = [r["workload"] for r in rows if r["ratio"] < (1.3 if r["video"] else 1.0)]
    print(f"load average {load_average()} after the runs")
    print("below goal (1.0x, video 1.3x): " + (", ".join(below) if below else "none"))


if __name__ == "__main__":
    main()
