"""Speedup of streaming delta inference against delta density, by sweeping
the calibrated threshold scale of `keras-delta bench stream`; writes the
figures as JSON and the plot as a dependency-free SVG (tools/svgplot.py);
`--replot` redraws the SVG from the JSON.

Run (after `swift build -c release`):
  .venv/bin/python tools/bench/stream_sweep.py [--binary .build/release/keras-delta]
      [--model models/frame_cnn.h5] [--data synthetic] [--frames 200]
      [--scales 0.25,0.5,1,1.5,2,3,4,5] [--json tools/bench/results/stream_sweep.json] [--svg tools/bench/results/stream_sweep.svg]
Each point is one `bench stream` run: delta and dense streaming alternate on
the same frames in the same process, so their ratio is what to read.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import svgplot  # noqa: E402


def run_point(a, scale):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        cmd = [a.binary, "bench", "stream", "--model", a.model, "--data", a.data, "--frames", str(a.frames),
               "--threshold-scale", str(scale), "--key-frame-every", str(a.key_frame_every), "--python", "none", "--json", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def svg(points, path, title):
    density = [max(p["delta_density"], 1e-4) for p in points]
    svgplot.chart([(label, [(d, p[key], None) for d, p in zip(density, points)])
                   for key, label in (("theoretical_speedup", "theoretical (dense MACs ÷ delta MACs)"),
                                      ("speedup", "measured, wall clock (delta ÷ dense)"),
                                      ("speedup_cpu", "measured, process CPU time"))],
                  path, title, "delta density (non-zero deltas per delta element, log)",
                  "speedup over dense per-frame (log)", xlog=True, ylog=True, hline=1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=".build/release/keras-delta")
    p.add_argument("--model", default="models/frame_cnn.h5")
    p.add_argument("--data", default="synthetic")
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--key-frame-every", type=int, default=0)
    p.add_argument("--scales", default="0.25,0.5,1,1.5,2,3,4,5")
    p.add_argument("--json", default="tools/bench/results/stream_sweep.json")
    p.add_argument("--svg", default="tools/bench/results/stream_sweep.svg")
    p.add_argument("--replot", action="store_true", help="only redraw the SVG from --json")
    a = p.parse_args()
    if a.replot:
        with open(a.json) as f:
            r = json.load(f)
        svg(r["points"], a.svg, f"Streaming delta inference: {os.path.basename(r['model'])}, {r['data']}, {r['frames']} frames")
        return
    points = []
    for s in [float(v) for v in a.scales.split(",")]:
        r = run_point(a, s)
        if r["theoretical_speedup"] is None:
            print(f"scale {s}: no delta MACs after the first frame; skipped")
            continue
        points.append(r)
        print(f"scale {s:5.2f}: density {r['delta_density']:.4f}  theoretical {r['theoretical_speedup']:6.2f}x  "
              f"measured {r['speedup']:5.2f}x (CPU time {r['speedup_cpu']:5.2f}x)  achieved {100 * r['achieved_fraction']:4.0f} %  max deviation {r['max_deviation']:.1e}",
              flush=True)
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"model": a.model, "data": a.data, "frames": a.frames, "points": points}, f, indent=1)
    svg(points, a.svg, f"Streaming delta inference: {os.path.basename(a.model)}, {a.data}, {a.frames} frames")
    print(f"wrote {a.json} and {a.svg}")


if __name__ == "__main__":
    main()
