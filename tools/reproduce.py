"""Regenerates REPRODUCTION.md, its figures (docs/reproduction/*.svg) and the
raw results (docs/reproduction/results.json) from real runs of the release
`keras-delta` on the bundled Keras models (issue 13).

    make build
    .venv/bin/python tools/reproduce.py              # every run (about 2 hours on 2 cores)
    .venv/bin/python tools/reproduce.py --reuse      # rewrite the page from results.json only

Each run deltaizes the bundled model with `deltaize`'s defaults, refines it
with `keras-delta refine` (the command is recorded next to every figure) and
measures it on held-out synthetic clips of another seed."""
import argparse
import json
import os
import pathlib
import shlex
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import svgplot  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = ROOT / ".build" / "release" / "keras-delta"
DOCS = ROOT / "docs" / "reproduction"
WORK = ROOT / ".build" / "reproduction"
HELD_OUT = 96
# A second, larger held-out set (another seed) for the headline runs: one clip of 96 is a whole point.
LARGE_HELD_OUT, LARGE_SEED = 960, 1001

MODELS = {
    "frame": {"path": "models/frame_mobilenet.h5", "synth": "synthetic:mode=appearance,classes=6,frames=8,size=32",
              "title": "per-frame MobileNet-style CNN (appearance, frames as batch)"},
    "clip": {"path": "models/clip_temporal.h5", "synth": "synthetic:mode=motion,classes=10,frames=8,size=32",
             "title": "Conv3D clip model (motion, explicit time axis)"},
}

# The recipe; every other run changes one thing.
RECIPE = {"epochs": 6, "sparsity_weight": 1e-2, "warmup": 20, "calibration": ("changes", 2.0), "gradient": "hybrid",
          "freeze_batchnorm": True, "optimizer": "adam", "learning_rate": 5e-4, "labels": True, "label_weight": 0.8,
          "penalty": "deltas", "phase2": None, "preset": None, "data": None, "validation": None, "seed": 0,
          "cosine_decay": False}

# Longer refinement (REPRODUCTION.md § Longer refinement).
LONG = {"epochs": 24, "cosine_decay": True, "label_weight": 0.2}


def run(args, **kw):
    cmd = [str(CLI), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(cmd)}\n{r.stderr.strip()}")
    return r


def cached(args, report):
    """Runs the command unless `report` is there from the same command (an interrupted run picks up where it stopped)."""
    stamp = report.with_name(report.name + ".command")
    if report.exists() and stamp.exists() and stamp.read_text() == display(args):
        return
    run(args)
    stamp.write_text(display(args))


def display(args):
    return "keras-delta " + " ".join(shlex.quote(str(a)).replace(str(ROOT) + "/", "") for a in args)


def refine_args(model, settings, delta, out, report):
    s = {**RECIPE, **settings}
    m = MODELS[model]
    args = ["refine", delta, "--data", s["data"] or f"{m['synth']},clips=160,seed=2000", "-o", out,
            "--teacher", ROOT / m["path"], "--epochs", s["epochs"], "--warmup", s["warmup"],
            "--optimizer", s["optimizer"], "--threshold-gradient", s["gradient"], "--penalty", s["penalty"],
            "--validation-data", s["validation"] or f"{m['synth']},clips={HELD_OUT},seed=1000",
            "--summary-clips", HELD_OUT, "--json", report]
    if s["seed"]:
        args += ["--seed", s["seed"]]
    if s["cosine_decay"]:
        args.append("--cosine-decay")
    if s["preset"]:
        args += ["--preset", s["preset"], "--epochs2", s["phase2"][0]]
    else:
        args += ["--sparsity-weight", s["sparsity_weight"]]
        if s["phase2"]:
            args += ["--epochs2", s["phase2"][0], "--sparsity-weight2", s["phase2"][1]]
    if s["learning_rate"] is not None:
        args += ["--learning-rate", s["learning_rate"]]
    if s["freeze_batchnorm"]:
        args.append("--freeze-batchnorm")
    if s["calibration"]:
        args += ["--calibrate-scale", s["calibration"][1], "--calibration-statistic", s["calibration"][0]]
    if s["labels"]:
        args += ["--labels", "--label-weight", s["label_weight"]]
    return args


def large_evaluation(model, delta_model, report):
    """`sparsity` of `delta_model` against the dense model on the larger held-out set."""
    m = MODELS[model]
    args = ["sparsity", delta_model, "--data", f"{m['synth']},clips={LARGE_HELD_OUT},seed={LARGE_SEED}",
            "--clips", LARGE_HELD_OUT, "--baseline", ROOT / m["path"], "--json", report]
    cached(args, report)
    r = json.loads(report.read_text())
    return {"command": display(args), "accuracy": r["accuracy"]["model"], "dense_accuracy": r["accuracy"]["baseline"],
            "density_reduction": r["density_reduction"]}


def experiment(model, name, settings, stream=False, large=False):
    """One refinement: its figures and the command that made them (and with `large`, its figures on the larger held-out set)."""
    WORK.mkdir(parents=True, exist_ok=True)
    delta = WORK / f"{model}_delta.h5"
    slug = "".join(c if c.isalnum() else "_" for c in name)
    out, report = WORK / f"{model}_{slug}.h5", WORK / f"{model}_{slug}.json"
    args = refine_args(model, settings, delta, out, report)
    cached(args, report)
    r = json.loads(report.read_text())
    result = {"name": name, "command": display(args), "density_reduction": r["density_reduction"], "delta_density": r["delta_density"]["after"],
              "delta_macs": r["delta_macs"]["after"], "agreement": r["agreement"]["after"],
              "accuracy": r.get("accuracy", {}).get("after")}
    if large:
        result["large"] = large_evaluation(model, out, WORK / f"{model}_{slug}_{LARGE_HELD_OUT}.json")
    if stream:
        s = WORK / f"{model}_{slug}_stream.json"
        stream_args = ["stream", out, "--data", f"{MODELS[model]['synth']},clips=40,seed=1000", "--frames", 320, "--json", s]
        cached(stream_args, s)
        st = json.loads(s.read_text())
        result["stream"] = {"command": display(stream_args), "speedup": st["speedup"], "speedup_cpu": st["speedup_cpu"],
                            "theoretical": st["theoretical_speedup"], "delta_density": st["delta_density"],
                            "max_deviation": st["max_deviation"], "load_average": st.get("load_average")}
    print(f"  {model} {name}: {result['density_reduction']:.2f}x, accuracy {result['accuracy']}, "
          f"agreement {result['agreement']:.3f}", flush=True)
    return result


def baseline(model):
    """deltaize's defaults, and the dense model and the unrefined delta model on the held-out clips."""
    m = MODELS[model]
    WORK.mkdir(parents=True, exist_ok=True)
    delta = WORK / f"{model}_delta.h5"
    run(["deltaize", ROOT / m["path"], delta, "--threshold-gradient", "hybrid"])
    report = WORK / f"{model}_unrefined.json"
    run(["sparsity", delta, "--data", f"{m['synth']},clips={HELD_OUT},seed=1000", "--clips", HELD_OUT,
         "--baseline", ROOT / m["path"], "--json", report])
    r = json.loads(report.read_text())
    return {"dense_accuracy": r["accuracy"]["baseline"], "unrefined_accuracy": r["accuracy"]["model"],
            "unrefined_reduction": r["density_reduction"], "unrefined_delta_density": r["total"]["delta_density"],
            "dense_activation_density": r["baseline"]["total"]["activation_density"],
            "dense_spatial_macs": r["baseline"]["total"]["spatial_macs"],
            "large": large_evaluation(model, delta, WORK / f"{model}_unrefined_{LARGE_HELD_OUT}.json")}


def videos(folder, seed, count):
    """Unlabelled footage: synthetic appearance clips written as H.264 files by FFmpeg (64×64, 24 frames each)."""
    if folder.exists() and len(list(folder.glob("*.mp4"))) == count:
        return folder
    raw = WORK / f"raw_{seed}"
    run(["data", "synth", "-o", raw, "--mode", "appearance", "--classes", 6, "--clips", count, "--frames", 24,
         "--size", 64, "--seed", seed])
    clips = np.load(raw / "clips.npy")
    folder.mkdir(parents=True, exist_ok=True)
    for i, clip in enumerate(clips):
        frames = np.clip(np.rint(clip), 0, 255).astype(np.uint8)
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x64",
                        "-r", "25", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18",
                        str(folder / f"clip_{i:03d}.mp4")], input=frames.tobytes(), check=True)
    return folder


def collect():
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_average": os.getloadavg()[0], "recipe": RECIPE, "models": {}}
    for model in MODELS:
        print(f"{model}: baseline", flush=True)
        results["models"][model] = {"baseline": baseline(model), "runs": {}}
    runs = results["models"]["frame"]["runs"]
    # The curve: λ with everything else as in the recipe, streamed too.
    runs["curve"] = [experiment("frame", f"λ {lam:g}", {"sparsity_weight": lam}, stream=True, large=True)
                     for lam in (3e-3, 1e-2, 2e-2, 5e-2, 1e-1, 2e-1)]
    runs["ablations"] = [experiment("frame", name, settings) for name, settings in [
        ("no calibration", {"calibration": None}),
        ("calibration on |activation| (α 0.35)", {"calibration": ("activations", 0.35)}),
        ("no warm-up", {"warmup": 0}),
        ("two phases (λ 2e-2 ×4, then 2e-3 ×2)", {"epochs": 4, "sparsity_weight": 2e-2, "phase2": (2, 2e-3)}),
        ("cosine learning-rate decay from 1e-3", {"cosine_decay": True, "learning_rate": 1e-3}),
        ("labels only (no teacher)", {"label_weight": 1.0}),
        ("teacher only (label-free)", {"labels": False}),
        ("the paper's recipe (preset paper, SGD)", {"preset": "paper", "epochs": 4, "phase2": (2, None), "optimizer": "sgd",
                                                    "learning_rate": None, "calibration": None, "warmup": 0,
                                                    "freeze_batchnorm": False, "label_weight": 1.0}),
    ]]
    runs["gradients"] = [experiment("frame", f"{mode}, λ {lam:g}", {"gradient": mode, "sparsity_weight": lam})
                         for mode in ("lsq", "paper") for lam in (1e-2, 5e-2)]
    runs["spatial"] = [experiment("frame", f"spatial L1, λ {lam:g}", {"penalty": "activations", "sparsity_weight": lam})
                       for lam in (1e-2, 5e-2)]
    train, held = videos(WORK / "video_train", 3000, 160), videos(WORK / "video_held_out", 3001, 48)
    runs["video"] = [experiment("frame", "label-free on FFmpeg-decoded video",
                                {"labels": False, "data": train, "validation": held})]
    results["models"]["clip"]["runs"]["curve"] = [experiment("clip", f"λ {lam:g}", {"sparsity_weight": lam}, large=True)
                                                  for lam in (3e-3, 1e-2, 3e-2, 1e-1)]
    results["models"]["clip"]["runs"]["ablations"] = [experiment("clip", "teacher only (label-free)", {"labels": False})]
    # The recipe's spread over the shuffle seed (seed 0 is the curve's λ 1e-2 row).
    for model in MODELS:
        results["models"][model]["runs"]["seeds"] = [experiment(model, f"seed {seed}", {"seed": seed}) for seed in (1, 2, 3)]
        results["models"][model]["runs"]["cosine_seeds"] = [
            experiment(model, f"cosine decay, seed {seed}", {"seed": seed, "cosine_decay": True, "learning_rate": 1e-3}) for seed in (0, 1, 2, 3)]
        # What tests/interop/test_refine_ci.py runs on the clip model: cosine decay from 5e-4, task loss at weight 0.2.
        results["models"][model]["runs"]["teacher_seeds"] = [
            experiment(model, f"cosine decay, task weight 0.2, seed {seed}", {"seed": seed, "cosine_decay": True, "label_weight": 0.2})
            for seed in (0, 1, 2, 3)]
        # Longer refinement: 24 epochs with cosine decay and the teacher at 0.8, four seeds.
        results["models"][model]["runs"]["long_seeds"] = [
            experiment(model, f"24 epochs, cosine decay, task weight 0.2, seed {seed}", {**LONG, "seed": seed}, stream=seed == 0,
                       large=True)
            for seed in (0, 1, 2, 3)]
    # The per-frame model trained longer still (its accuracy does not come back within a point).
    runs["long"] = [experiment("frame", f"{epochs} epochs, cosine decay, task weight 0.2, λ {lam:g}",
                               {**LONG, "epochs": epochs, "sparsity_weight": lam}, large=True)
                    for epochs, lam in ((48, 1e-2), (48, 5e-3), (96, 5e-3), (96, 3e-3), (192, 5e-3))]
    clip_runs = results["models"]["clip"]["runs"]
    clip_runs["long"] = [experiment("clip", "36 epochs, cosine decay, task weight 0.2", {**LONG, "epochs": 36}, large=True),
                         experiment("clip", "24 epochs, cosine decay, label-free", {**LONG, "labels": False}, large=True)]
    # More training clips: 640 instead of 160, on the same 24-epoch schedule (four times the steps).
    for model, lams in (("frame", (1e-2, 5e-3)), ("clip", (1e-2, 3e-3))):
        results["models"][model]["runs"]["more_data"] = [
            experiment(model, f"640 clips, λ {lam:g}, seed {seed}",
                       {**LONG, "data": f"{MODELS[model]['synth']},clips=640,seed=2000", "sparsity_weight": lam, "seed": seed},
                       stream=seed == 0 and lam == 1e-2, large=True)
            for lam in lams for seed in (0, 1, 2, 3)]
    return results


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def change(accuracy, dense_accuracy):
    return "–" if accuracy is None else f"{pct(accuracy)} ({100 * (accuracy - dense_accuracy):+.1f} pt)"


def table(rows, dense_accuracy):
    """The runs' figures on the held-out clips, and on the larger held-out set where measured."""
    large = any("large" in r for r in rows)
    head = "| run | density reduction | accuracy (change) | teacher agreement | delta density |"
    head += f" on {LARGE_HELD_OUT} held-out clips: reduction, accuracy (change) |" if large else ""
    lines = [head + " command |", "|---|---|---|---|---|" + ("---|" if large else "") + "---|"]
    for r in rows:
        line = (f"| {r['name']} | **{r['density_reduction']:.2f}x** | {change(r['accuracy'], dense_accuracy)} | "
                f"{pct(r['agreement'])} | {pct(r['delta_density'])} |")
        if large:
            g = r.get("large")
            line += (f" {g['density_reduction']:.2f}x, {change(g['accuracy'], g['dense_accuracy'])} |" if g else " – |")
        lines.append(line + f" <details><summary>command</summary><code>{r['command']}</code></details> |")
    return "\n".join(lines)


def best(rows, dense_accuracy, points):
    ok = [r for r in rows if r["accuracy"] is not None and r["accuracy"] >= dense_accuracy - points / 100]
    return max(ok, key=lambda r: r["density_reduction"]) if ok else None


def within_large(r, points):
    """Whether run `r` stays within `points` of the dense model on the larger held-out set."""
    return "large" in r and r["large"]["accuracy"] >= r["large"]["dense_accuracy"] - points / 100


def best_large(rows, points):
    """The run with the largest reduction within `points` of the dense model on the larger held-out set."""
    ok = [r for r in rows if within_large(r, points)]
    return max(ok, key=lambda r: r["large"]["density_reduction"]) if ok else None


def meets_target(r):
    """≥ 3x and ≤ 1 point lost on the larger held-out set."""
    return within_large(r, 1) and r["large"]["density_reduction"] >= 3


def plots(results):
    frame = results["models"]["frame"]
    runs, dense = frame["runs"], frame["baseline"]["dense_accuracy"]

    def points(rows, note=False):
        return [(r["density_reduction"], 100 * r["accuracy"], r["name"].split(", ")[-1] if note else None) for r in rows]
    curve = [r for r in runs["curve"]]
    svgplot.chart([("hybrid (the recipe)", points(curve, True)), ("lsq", points(runs["gradients"][:2], True)),
                   ("paper", points(runs["gradients"][2:], True)), ("spatial L1 baseline", points(runs["spatial"], True)),
                   ("640 training clips, 24 epochs", points(runs.get("more_data", [])))],
                  DOCS / "accuracy_vs_density.svg", "Per-frame model: accuracy against density reduction",
                  "density reduction (dense spatial MACs ÷ delta MACs)", "held-out accuracy, %", hline=100 * dense - 1, vline=3)
    clip = results["models"]["clip"]
    svgplot.chart([("clip model, λ sweep", points(clip["runs"]["curve"], True)),
                   ("24–36 epochs, cosine decay, teacher 0.8", points(clip["runs"].get("long_seeds", []) + clip["runs"].get("long", [])[:1])),
                   ("640 training clips, 24 epochs", points(clip["runs"].get("more_data", [])))],
                  DOCS / "clip_accuracy_vs_density.svg",
                  "Conv3D clip model: accuracy against density reduction", "density reduction (dense spatial MACs ÷ delta MACs)",
                  "held-out accuracy, %", hline=100 * clip["baseline"]["dense_accuracy"] - 1, vline=3)
    streamed = [r for r in curve if "stream" in r]
    svgplot.chart([("theoretical (dense MACs ÷ delta MACs)", [(r["stream"]["delta_density"], r["stream"]["theoretical"], None) for r in streamed]),
                   ("measured, wall clock", [(r["stream"]["delta_density"], r["stream"]["speedup"], None) for r in streamed]),
                   ("measured, CPU time", [(r["stream"]["delta_density"], r["stream"]["speedup_cpu"], None) for r in streamed])],
                  DOCS / "streaming_speedup.svg", "Streaming the refined per-frame models: speedup over dense per-frame",
                  "delta density", "speedup over dense (same engine)", ylog=True, hline=1)


def page(results):
    frame, clip = results["models"]["frame"], results["models"]["clip"]
    fb, cb = frame["baseline"], clip["baseline"]
    runs = frame["runs"]
    out = [f"""# Reproducing the paper's result on our data

Generated by `tools/reproduce.py`, last run {results['date']} (UTC; load average {results['load_average']:.1f} at the start,
on a shared 2-core machine; a run whose command is unchanged since an earlier invocation keeps that invocation's figures).
Every figure below comes from `results.json` in [docs/reproduction](docs/reproduction), and every run lists the command
that made it. Rerun everything with

```sh
make build && .venv/bin/python tools/reproduce.py
```

**Set-up.** The bundled models of [models/](models/README.md), trained by real Keras on the built-in synthetic
set, are deltaized with `keras-delta deltaize`'s defaults (a delta layer on the input and after every
non-linearity that feeds a MAC layer; thresholds 0.1; `--threshold-gradient hybrid`) and refined on 160 clips
(seed 2000; 640 in § More training clips). Every figure is measured on {HELD_OUT} held-out clips of another seed (1000),
and the runs that compete for the headline also on {LARGE_HELD_OUT} held-out clips of a third seed ({LARGE_SEED}), where one clip
is a tenth of a point instead of a whole one (the dense per-frame model: {pct(fb['dense_accuracy'])} on the {HELD_OUT},
{pct(fb['large']['dense_accuracy'])} on the {LARGE_HELD_OUT}):
- **density reduction** = the dense model's spatial MACs ÷ the refined model's delta MACs (DELTA_SPEC.md
  § How sparsity is counted: the paper's headline figure);
- **accuracy** per clip, against the dense model's on the same clips; **teacher agreement** = top-1
  agreement with the dense model;
- **delta density** = non-zero deltas ÷ deltas over all delta layers (unweighted).

**The recipe** (each ablation below changes one thing): the steps calibrated at the start of refinement to
2 × each channel's mean |frame-to-frame change| (`--calibrate-scale 2 --calibration-statistic changes`),
λ 1e-2 with a 20-step warm-up, `hybrid` threshold gradients, frozen BatchNorm, Adam 5e-4, 6 epochs of batches
of 4 whole clips, 0.8 × the labels' cross-entropy + 0.2 × KL distillation from the dense teacher at τ = 2.

## The headline
"""]
    def candidates(key):
        r = results["models"][key]["runs"]
        return r["curve"] + r.get("long_seeds", []) + r.get("long", []) + r.get("more_data", [])
    for key, b in (("frame", fb), ("clip", cb)):
        rows = candidates(key)
        hit, hit_large = best(rows, b["dense_accuracy"], 1), best_large(rows, 1)
        out.append(f"**{MODELS[key]['title']}** (`{MODELS[key]['path']}`): dense accuracy {pct(b['dense_accuracy'])} "
                   f"({pct(b['large']['dense_accuracy'])} on the {LARGE_HELD_OUT}); "
                   f"deltaized and not refined: {b['unrefined_reduction']:.2f}x at {pct(b['unrefined_accuracy'])}. "
                   + (f"Best within 1 point of the dense model on the {HELD_OUT}: **{hit['density_reduction']:.2f}x** ({hit['name']}, "
                      f"{pct(hit['accuracy'])}). " if hit else "No run stays within 1 point of the dense model. ")
                   + (f"On the {LARGE_HELD_OUT}: **{hit_large['large']['density_reduction']:.2f}x** ({hit_large['name']}, "
                      f"{change(hit_large['large']['accuracy'], hit_large['large']['dense_accuracy'])}). " if hit_large else "")
                   + f"Largest reduction: {max(r['density_reduction'] for r in rows):.2f}x.\n")
    verdicts = []
    for key, b in (("frame", fb), ("clip", cb)):
        # A recipe meets the target when all its seeds do on the larger held-out set: the longer
        # refinement on 160 clips, or the same on 640 clips at each λ.
        families = {}
        for r in results["models"][key]["runs"].get("long_seeds", []) + results["models"][key]["runs"].get("more_data", []):
            families.setdefault(r["name"].split(", seed")[0], []).append(r)
        families = {name: rs for name, rs in families.items() if len(rs) > 1 and all("large" in r for r in rs)}
        met = [(name, rs) for name, rs in families.items() if all(meets_target(r) for r in rs)]
        if met:
            name, rs = max(met, key=lambda f: min(r["large"]["density_reduction"] for r in f[1]))
            verb = "**met**"
        elif families:
            # The family whose worst seed comes closest.
            name, rs = max(families.items(), key=lambda f: min(r["large"]["accuracy"] - r["large"]["dense_accuracy"] for r in f[1]))
            verb = "**NOT met**; closest"
        else:
            verdicts.append(f"{MODELS[key]['title'].split(' (')[0]}: **NOT measured** on the larger held-out set")
            continue
        losses = [100 * (r["large"]["accuracy"] - r["large"]["dense_accuracy"]) for r in rs]
        small = [100 * (r["accuracy"] - b["dense_accuracy"]) for r in rs]
        verdicts.append(f"{MODELS[key]['title'].split(' (')[0]}: {verb} on the {LARGE_HELD_OUT} held-out clips by all {len(rs)} seeds of "
                        f"*{name}*: {min(r['large']['density_reduction'] for r in rs):.2f}–"
                        f"{max(r['large']['density_reduction'] for r in rs):.2f}x at {min(losses):+.1f} to {max(losses):+.1f} pt "
                        f"({min(small):+.1f} to {max(small):+.1f} pt on the {HELD_OUT})")
    out.append("**Against the target of ≥ 3x at ≤ 1 point lost** (the paper: about 3x, with several points lost; the "
               "authors' ResNet-50 logs reach 7.6x in non-zero values at −5.7 points): " + "; ".join(verdicts) + ".\n")
    lines = ["| model | recipe | seed 0 | seed 1 | seed 2 | seed 3 |", "|---|---|---|---|---|---|"]
    for key, b in (("frame", fb), ("clip", cb)):
        model_runs = results["models"][key]["runs"]
        for label, rows in (("as above", [model_runs["curve"][1]] + model_runs["seeds"]),
                            ("cosine decay from 1e-3", model_runs["cosine_seeds"]),
                            ("cosine decay from 5e-4, task loss 0.2 + teacher 0.8", model_runs["teacher_seeds"]),
                            ("the same, 24 epochs", model_runs["long_seeds"])):
            lines.append(f"| `{MODELS[key]['path']}` | {label} | " + " | ".join(
                f"{r['density_reduction']:.2f}x, {100 * (r['accuracy'] - b['dense_accuracy']):+.1f} pt" for r in rows) + " |")
    out.append("**How much one run tells.** The recipe at λ 1e-2 with four shuffle seeds (`refine --seed`; everything "
               "else equal), as density reduction and accuracy change:\n\n" + "\n".join(lines) + "\n\n"
               "Single rows below are one seed each; read differences of a few points between them with this spread in mind. "
               "The density reduction hardly moves with the seed; the accuracy does, and a cosine learning-rate decay "
               "(`--cosine-decay`) narrows its spread, more so with the teacher's KL weighing more than the labels "
               "(`--label-weight 0.2`; the CI-size test, `tests/interop/test_refine_ci.py`, runs that on the clip model).\n")
    out.append("## Longer refinement\n\nThe recipe runs 6 epochs. With 24, a cosine learning-rate decay and the "
               "teacher's KL weighing 0.8 (`--epochs 24 --cosine-decay --label-weight 0.2`), both models reach a "
               "far lower density, at the accuracy the tables give on both held-out sets. Four seeds each (the seed "
               "table above), then the per-frame model at 48 to 192 epochs (its best accuracy there is "
               f"{pct(max((r['accuracy'] for r in runs.get('long', [])), default=0))}, "
               f"against {pct(fb['dense_accuracy'])} dense) and the clip model at 36 epochs and label-free:\n\n"
               + table(runs["long_seeds"] + runs.get("long", []), fb["dense_accuracy"]) + "\n\n"
               + table(clip["runs"]["long_seeds"] + clip["runs"]["long"], cb["dense_accuracy"]) + "\n")
    more = runs.get("more_data", []) + clip["runs"].get("more_data", [])
    if more:
        out.append("## More training clips\n\nThe 24-epoch schedule above, cosine decay and the teacher at 0.8, on 640 "
                   "training clips (seed 2000) instead of 160: four times the steps, and four times the scenes to "
                   "generalise from. Per-frame model, λ 1e-2 and 5e-3 on four seeds each, then the clip model at λ 1e-2 and 3e-3:\n\n"
                   + table(runs.get("more_data", []), fb["dense_accuracy"]) + "\n\n"
                   + table(clip["runs"].get("more_data", []), cb["dense_accuracy"]) + "\n\n"
                   f"On the {HELD_OUT} held-out clips one clip is a point, and the dense per-frame model gets all but "
                   f"{round((1 - fb['dense_accuracy']) * HELD_OUT)} right; on the {LARGE_HELD_OUT} it gets "
                   f"{pct(fb['large']['dense_accuracy'])}. The {HELD_OUT}-clip change of a run is therefore a count of a "
                   "few clips.\n")
    out.append("## The curve toward 7x (per-frame model, λ sweep)\n\n" + table(runs["curve"], fb["dense_accuracy"]) + "\n")
    out.append("![accuracy against density reduction](docs/reproduction/accuracy_vs_density.svg)\n")
    out.append("The clip model (λ sweep, then label-free at λ 1e-2):\n\n"
               + table(clip["runs"]["curve"] + clip["runs"]["ablations"], cb["dense_accuracy"]) + "\n")
    out.append("![clip model](docs/reproduction/clip_accuracy_vs_density.svg)\n")
    out.append("## The recipe, one ingredient at a time (per-frame model)\n\nAgainst the recipe at λ 1e-2 (the curve's "
               "second row):\n\n" + table(runs["ablations"], fb["dense_accuracy"]) + "\n")
    out.append("### Threshold-gradient modes\n\n" + table(runs["gradients"], fb["dense_accuracy"]) + "\n\n`hybrid` is the curve. "
               "All three are on the plot above.\n")
    out.append("## Against the spatial baseline\n\nThe same refinement with plain L1 on the quantized activations instead "
               "of their changes (`refine --penalty activations`), as the paper compares:\n\n"
               + table(runs["spatial"], fb["dense_accuracy"]) + "\n")
    recipe = runs["curve"][1]
    spatial = {r["name"].split("λ ")[-1]: r for r in runs["spatial"]}
    same = {r["name"].split("λ ")[-1]: r for r in runs["curve"]}
    out.append("At the same λ, delta penalty against spatial L1: " + "; ".join(
        f"λ {lam}: {same[lam]['density_reduction']:.2f}x at {100 * (same[lam]['accuracy'] - fb['dense_accuracy']):+.1f} pt "
        f"against {spatial[lam]['density_reduction']:.2f}x at {100 * (spatial[lam]['accuracy'] - fb['dense_accuracy']):+.1f} pt"
        for lam in spatial if lam in same) + ". On this data the two trade accuracy for MACs at much the same rate: "
        "penalising activations also removes deltas, and most of the reduction comes from the calibrated steps "
        f"(the recipe without calibration: {runs['ablations'][0]['density_reduction']:.2f}x, with it "
        f"{recipe['density_reduction']:.2f}x).\n")
    out.append("## Label-free, on video decoded by FFmpeg\n\nUnlabelled footage: 160 training and 48 held-out H.264 files "
               "(64×64, 24 frames, synthetic appearance scenes of seeds 3000 and 3001, written by FFmpeg), decoded by FFmpeg "
               "at the model's 32×32; the teacher is the dense model. Agreement is on the held-out files' clips:\n\n"
               + table(runs["video"], fb["dense_accuracy"]) + "\n")
    streamed = [("per-frame", r) for r in runs["curve"] + runs.get("long_seeds", []) + runs.get("more_data", []) if "stream" in r]
    streamed += [("clip", r) for r in clip["runs"].get("long_seeds", []) + clip["runs"].get("more_data", []) if "stream" in r]
    lines = ["| model | run | delta density (streamed) | theoretical | measured, wall | measured, CPU time | max deviation | load |",
             "|---|---|---|---|---|---|---|---|"]
    for model, r in streamed:
        s = r["stream"]
        lines.append(f"| {model} | {r['name']} | {pct(s['delta_density'])} | {s['theoretical']:.2f}x | {s['speedup']:.2f}x | "
                     f"{s['speedup_cpu']:.2f}x | {s['max_deviation']:.1e} | {s['load_average']} |")
    out.append("## Real speed: the streaming engine at each point of the curve\n\n320 held-out frames streamed one at a "
               "time through each refined model (`keras-delta stream`), against dense per-frame inference on the same "
               "engine; the theoretical ratio is dense MACs ÷ delta MACs. The clip model streams its 40 clips of 8 "
               "frames one frame at a time; each clip's output comes 3 frames after its last frame (one per `same` "
               "Conv3D) and is compared with the clip forward.\n\n" + "\n".join(lines) + "\n\n"
               + "".join(f"Command ({model}, per run): `{next(r for m, r in streamed if m == model)['stream']['command']}`\n\n"
                         for model in ("per-frame", "clip") if any(m == model for m, _ in streamed)))
    out.append("![streaming speedup](docs/reproduction/streaming_speedup.svg)\n")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="rewrite the page and plots from docs/reproduction/results.json")
    a = parser.parse_args()
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / "results.json"
    if a.reuse:
        results = json.loads(path.read_text())
    else:
        if not CLI.exists():
            sys.exit(f"{CLI} is missing: run `make build` first")
        results = collect()
        path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    plots(results)
    (ROOT / "REPRODUCTION.md").write_text(page(results))
    print(f"wrote REPRODUCTION.md and {DOCS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
