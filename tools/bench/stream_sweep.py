"""Speedup of streaming delta inference against delta density, by sweeping
the calibrated threshold scale of `keras-delta bench stream`; writes the
figures as JSON and the plot as a dependency-free SVG.

Run (after `swift build -c release`):
  .venv/bin/python tools/bench/stream_sweep.py [--binary .build/release/keras-delta]
      [--model models/frame_cnn.h5] [--data synthetic] [--frames 200]
      [--scales 0.25,0.5,1,1.5,2,3,4,5] [--json tools/bench/results/stream_sweep.json] [--svg tools/bench/results/stream_sweep.svg]
Each point is one `bench stream` run: delta and dense streaming alternate on
the same frames in the same process, so their ratio is what to read.
"""
import argparse
import json
import math
import os
import subprocess
import tempfile


def run_point(a, scale):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        cmd = [a.binary, "bench", "stream", "--model", a.model, "--data", a.data, "--frames", str(a.frames),
               "--threshold-scale", str(scale), "--key-frame-every", str(a.key_frame_every), "--python", "none", "--json", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def svg(points, path, title):
    w, h, left, right, top, bottom = 640, 420, 70, 20, 40, 60
    xs = [max(p["delta_density"], 1e-4) for p in points]
    ys = [p[k] for p in points for k in ("speedup", "theoretical_speedup", "speedup_cpu")]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    x1 = max(x1, x0 + 1)
    y0, y1 = math.floor(math.log10(min(ys + [0.5]))), math.ceil(math.log10(max(ys + [2])))

    def px(x):
        return left + (math.log10(x) - x0) / (x1 - x0) * (w - left - right)

    def py(y):
        return h - bottom - (math.log10(y) - y0) / (y1 - y0) * (h - top - bottom)

    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
         f'<rect width="{w}" height="{h}" fill="white"/>',
         f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for k in range(x0, x1 + 1):
        x = px(10 ** k)
        e.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" stroke="#ddd"/>')
        e.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">{10 ** k:g}</text>')
    for k in range(y0, y1 + 1):
        y = py(10 ** k)
        e.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="#ddd"/>')
        e.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** k:g}×</text>')
    e.append(f'<line x1="{left}" y1="{py(1):.1f}" x2="{w - right}" y2="{py(1):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    e.append(f'<text x="{(left + w - right) / 2}" y="{h - 20}" text-anchor="middle">delta density (non-zero deltas per delta element, log)</text>')
    e.append(f'<text x="18" y="{(top + h - bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 {(top + h - bottom) / 2})">'
             'speedup over dense per-frame (log)</text>')
    order = sorted(range(len(points)), key=lambda i: xs[i])
    for key, color, label in (("theoretical_speedup", "#d62728", "theoretical (dense MACs ÷ delta MACs)"),
                              ("speedup", "#1f77b4", "measured, wall clock (delta ÷ dense, same engine)"),
                              ("speedup_cpu", "#2ca02c", "measured, process CPU time")):
        pts = " ".join(f"{px(xs[i]):.1f},{py(points[i][key]):.1f}" for i in order)
        e.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i in order:
            e.append(f'<circle cx="{px(xs[i]):.1f}" cy="{py(points[i][key]):.1f}" r="3.5" fill="{color}"/>')
        ly = top + 14 + 18 * ["theoretical_speedup", "speedup", "speedup_cpu"].index(key)
        e.append(f'<line x1="{w - right - 290}" y1="{ly - 4}" x2="{w - right - 270}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
        e.append(f'<text x="{w - right - 264}" y="{ly}">{label}</text>')
    e.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(e) + "\n")


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
    a = p.parse_args()
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
