"""`make bench`: each workload in TensorFlow and in Swift, back to back on
the same machine with the same thread count, and their ratio.

Run: .venv/bin/python tools/bench/run_bench.py [--quick] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / ".fixtures/bench"
SWIFT = ROOT / ".build/release/keras-delta"
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


def run_swift(kind, model, batch, steps):
    tmp = ROOT / ".fixtures/bench/swift_result.json"
    subprocess.run([str(SWIFT), "bench", kind, "--model", str(model), "--batch-size", str(batch), "--steps", str(steps),
                    "--json", str(tmp)], check=True, capture_output=True, text=True)
    return json.loads(tmp.read_text())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="fewer steps")
    p.add_argument("--json", help="write all results here")
    a = p.parse_args()
    threads = os.cpu_count() or 2
    if not (MODELS / "mobilenetv2.h5").exists() or not (MODELS / "resnet50.h5").exists():
        subprocess.run([PYTHON, str(WORKLOADS), "models", str(MODELS)], check=True, capture_output=True)
    scale = 1 if a.quick else 3
    workloads = [
        ("train", "mobilenetv2.h5", 16, 4 * scale),
        ("predict", "mobilenetv2.h5", 1, 20 * scale),
        ("predict", "mobilenetv2.h5", 16, 5 * scale),
        ("predict", "resnet50.h5", 1, 10 * scale),
        ("predict", "resnet50.h5", 16, 3 * scale),
    ]
    rows = []
    print(f"{'workload':<36} {'TensorFlow f/s':>15} {'Swift f/s':>10} {'Swift/TF':>9}")
    for kind, name, batch, steps in workloads:
        model = MODELS / name
        tf = run_tf(kind, model, batch, steps, threads)
        sw = run_swift(kind, model, batch, steps)
        ratio = sw["frames_per_second"] / tf["frames_per_second"]
        rows.append({"workload": f"{kind} {name} batch {batch}", "tensorflow": tf, "swift": sw, "ratio": ratio})
        print(f"{kind + ' ' + name + ' batch ' + str(batch):<36} {tf['frames_per_second']:>15.1f} "
              f"{sw['frames_per_second']:>10.1f} {ratio:>8.2f}x", flush=True)
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
