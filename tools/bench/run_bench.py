"""`make bench`: each workload in TensorFlow and in Swift, back to back on
the same machine with the same thread count, and their ratio.

The two engines alternate `--repeats` times per workload, so both see the
same machine load; the table shows the median of each engine's runs and the
median of the per-pair ratios (Swift over TensorFlow throughput, or
TensorFlow over Swift load time: above 1 means Swift is faster).

Run: .venv/bin/python tools/bench/run_bench.py [--quick] [--repeats N] [--binary PATH] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / ".fixtures/bench"
PYTHON = sys.executable
WORKLOADS = ROOT / "tools/bench/keras_workloads.py"


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no result in output:\n{text}")


def run_tf(kind, model, batch, steps, threads):
    out = subprocess.run([PYTHON, str(WORKLOADS), kind, str(model), "--batch-size", str(batch), "--steps", str(steps),
                          "--threads", str(threads)], capture_output=True, text=True, check=True)
    return last_json(out.stdout)


def run_swift(binary, kind, model, batch, steps):
    tmp = MODELS / "swift_result.json"
    args = [str(binary), "bench", kind, "--model", str(model), "--json", str(tmp)]
    args += ["--repeats", str(steps)] if kind == "load" else ["--batch-size", str(batch), "--steps", str(steps)]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(tmp.read_text())


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="fewer steps")
    p.add_argument("--repeats", type=int, default=5, help="alternating runs of each engine per workload")
    p.add_argument("--binary", default=str(ROOT / ".build/release/keras-delta"), help="the keras-delta executable")
    p.add_argument("--only", help="run only workloads whose name contains this")
    p.add_argument("--json", help="write all results here")
    a = p.parse_args()
    threads = os.cpu_count() or 2
    if not (MODELS / "mobilenetv2.h5").exists() or not (MODELS / "resnet50.h5").exists():
        subprocess.run([PYTHON, str(WORKLOADS), "models", str(MODELS)], check=True, capture_output=True)
    scale = 1 if a.quick else 3
    workloads = [
        ("train", "mobilenetv2.h5", 16, 4 * scale),
        ("predict", "mobilenetv2.h5", 1, 20 * scale),
        ("predict", "mobilenetv2.h5", 16, 20 * scale),
        ("predict", "resnet50.h5", 1, 10 * scale),
        ("predict", "resnet50.h5", 16, 8 * scale),
        ("load", "resnet50.h5", 0, 5),
    ]
    print(f"threads {threads}, load average {load_average()} (1, 5, 15 min)")
    print(f"{'workload':<34} {'TensorFlow':>12} {'Swift':>12} {'Swift/TF':>9}  per-pair ratios")
    rows = []
    for kind, name, batch, steps in workloads:
        label = f"{kind} {name}" + (f" batch {batch}" if kind != "load" else "")
        if a.only and a.only not in label:
            continue
        model = MODELS / name
        runs = []
        for _ in range(max(1, a.repeats)):
            runs.append((run_tf(kind, model, batch, steps, threads), run_swift(a.binary, kind, model, batch, steps)))
        if kind == "load":
            value = lambda r: r["warm_seconds"]
            ratios = [value(tf) / value(sw) for tf, sw in runs]
        else:
            value = lambda r: r["frames_per_second"]
            ratios = [value(sw) / value(tf) for tf, sw in runs]
        tf_median = statistics.median(value(tf) for tf, _ in runs)
        sw_median = statistics.median(value(sw) for _, sw in runs)
        ratio = statistics.median(ratios)
        rows.append({"workload": label, "runs": [{"tensorflow": tf, "swift": sw} for tf, sw in runs],
                     "tensorflow_median": tf_median, "swift_median": sw_median, "ratio": ratio, "ratios": ratios})
        fmt = "{:>10.3f} s" if kind == "load" else "{:>8.1f} f/s"
        print(f"{label:<34} {fmt.format(tf_median):>12} {fmt.format(sw_median):>12} {ratio:>8.2f}x  "
              + " ".join(f"{r:.2f}" for r in ratios), flush=True)
        if kind == "load":
            tf, sw = runs[-1]
            for engine, r in (("TensorFlow", tf), ("Swift", sw)):
                print(f"  {engine}: weights {r['weight_bytes'] / 1e6:.1f} MB, peak memory of the first load "
                      f"{r['peak_bytes'] / 1e6:.1f} MB ({r['peak_bytes'] / r['weight_bytes']:.2f}x), "
                      f"first load {r['first_seconds']:.3f} s")
    print(f"load average {load_average()} after the runs")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
