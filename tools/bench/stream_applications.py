"""Streaming delta inference on every keras.applications family: one
`keras-delta bench stream` run per model of .fixtures/bench/ (deltaized and
calibrated there), against dense per-frame inference on the same engine and
TensorFlow's per-frame predict; writes the runs as JSON and prints a
Markdown table for BENCHMARKS.md.

Run (after `swift build -c release` and `python tools/bench/run_bench.py`,
which writes the models):
  .venv/bin/python tools/bench/stream_applications.py [--binary .build/release/keras-delta]
      [--data /tmp/testsrc.mp4] [--frames 60] [--threshold-scale 1] [--python .venv/bin/python]
      [--json tools/bench/results/stream_applications.json] [--only resnet50,vgg16] [--placement mac-inputs]
      [--models stream_efficientnetb0128.keras,…]   (files of .fixtures/bench/, e.g. from stream_model.py)
The FFmpeg clip: ffmpeg -f lavfi -i testsrc=size=320x240:rate=25:duration=12 -pix_fmt yuv420p /tmp/testsrc.mp4
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ["resnet50.h5", "resnet50v2.h5", "mobilenet.h5", "mobilenetv2.h5", "mobilenetv3small.keras",
          "mobilenetv3large.keras", "efficientnetb0.h5", "efficientnetv2b0.h5", "densenet121.h5", "inceptionv3.h5",
          "inceptionresnetv2.keras", "xception.h5", "nasnetmobile.h5", "convnexttiny.keras",
          "regnetx002_tfkeras.h5", "vgg16.h5"]


def run(a, model):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        cmd = [a.binary, "bench", "stream", "--model", f".fixtures/bench/{model}", "--data", a.data,
               "--frames", str(a.frames), "--threshold-scale", str(a.threshold_scale), "--key-frame-every", "100",
               "--python", a.python, "--placement", a.placement, "--json", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        with open(out) as f:
            result = json.load(f)
    result["model"] = model
    result["command"] = " ".join(cmd[:-2])
    return result


def row(r):
    tf = r.get("speedup_over_tensorflow")
    return (f"| {r['model'].split('.')[0]} | {100 * r['delta_density']:.1f} % | {r['theoretical_speedup']:.1f}× | "
            f"{r['speedup']:.2f}× ({r['frames_per_second']['delta']:.0f} vs {r['frames_per_second']['dense']:.0f}) | "
            f"{r['speedup_cpu']:.2f}× | {100 * r['achieved_fraction']:.0f} % | "
            + (f"{tf:.2f}× (TF {r['baseline']['frames_per_second']:.0f})" if tf else "–")
            + f" | {r['max_deviation']:.1e} ({r['outputs_beyond_tolerance']} of {r['outputs_compared']}) |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=".build/release/keras-delta", help="relative to the project root")
    p.add_argument("--data", default="/tmp/testsrc.mp4")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--threshold-scale", type=float, default=1)
    p.add_argument("--python", default=".venv/bin/python", help="relative to the project root; 'none' skips TensorFlow")
    p.add_argument("--json", default=str(ROOT / "tools/bench/results/stream_applications.json"))
    p.add_argument("--only", default="")
    p.add_argument("--models", default="", help="comma-separated files of .fixtures/bench/ instead of the families above")
    p.add_argument("--placement", default="non-linearities", help="deltaize's --placement: non-linearities or mac-inputs")
    a = p.parse_args()
    only = [m for m in a.only.split(",") if m]
    results = []
    for model in (a.models.split(",") if a.models else MODELS):
        if only and model.split(".")[0] not in only:
            continue
        results.append(run(a, model))
        print(row(results[-1]), flush=True)
        # After every run, so that a failing model keeps the others.
        pathlib.Path(a.json).write_text(json.dumps({"data": a.data, "frames": a.frames, "threshold_scale": a.threshold_scale,
                                                    "placement": a.placement, "runs": results}, indent=1))
    print("| model | delta density | theoretical | delta ÷ dense, wall | CPU time | achieved | ÷ TensorFlow | max deviation |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(row(r))


if __name__ == "__main__":
    main()
