"""Accuracy and sparsity after refinement for both placements of `deltaize`:
after the non-linearities (the default) and at every MAC input
(`--placement mac-inputs`, which also quantizes residual sums).

Two per-frame models on the synthetic appearance set: the bundled
`models/frame_mobilenet.h5` (every MAC layer reads a rectified tensor, so both
placements are the same), and `frame_mobilenetv2`, a small MobileNetV2-style
CNN whose residual sums are linear, which this script trains with real Keras
on the same set the bundled model was trained on (cached in .build/placement).
Each placement is deltaized, measured unrefined, refined with
REPRODUCTION.md's recipe (`tools/reproduce.py`: 6 epochs on 160 clips,
λ 1e-2, calibration, teacher and labels) and with its longer refinement (24
epochs, cosine decay, the teacher's KL weighing 0.8), measured on the 96
held-out clips, and streamed on 40 held-out clips (delta ÷ dense per-frame,
same engine).

    make build
    .venv/bin/python tools/bench/placement_refine.py [--models frame,mobilenetv2] [--json tools/bench/results/placement_refine.json]

A run whose command is unchanged keeps its earlier report (.build/placement).
"""
import argparse
import json
import pathlib
import sys
import time

TOOLS = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
import gen_bundled_models as bundled  # noqa: E402  (sets TensorFlow to two threads)
import reproduce  # noqa: E402

keras = bundled.keras
ROOT = reproduce.ROOT
WORK = ROOT / ".build" / "placement"
PLACEMENTS = ("non-linearities", "mac-inputs")
# REPRODUCTION.md's recipe (6 epochs), and its longer refinement (24 epochs, cosine decay, teacher KL weighing 0.8).
RECIPES = {"recipe": {}, "longer": reproduce.LONG}
# frame_mobilenetv2: the bundled per-frame model's training (set, split, augmentation, schedule), 10 epochs.
INVERTED = {**bundled.MODES["appearance"], "epochs": 10,
            "model": {"stem": 24, "blocks": [[4, 24, 1], [4, 32, 2], [4, 32, 1], [4, 64, 2], [4, 64, 1]], "head": 128}}


def frame_mobilenetv2(frame_shape, classes, stem, blocks, head, momentum=0.9):
    """Per-frame MobileNetV2-style classifier on raw 0..255 pixels: a strided
    stem, inverted residual blocks (1×1 expansion + ReLU6, depthwise 3×3 +
    ReLU6, linear 1×1 projection, summed with the block's input where the
    shape allows), a 1×1 head + ReLU6, global average pooling, Dropout and a
    softmax head. The sums are linear: only `mac-inputs` quantizes them."""
    L = keras.layers
    BN = lambda name: L.BatchNormalization(momentum=momentum, name=name)
    x = keras.Input(frame_shape, name="frames")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    h = L.Conv2D(stem, 3, strides=2, padding="same", use_bias=False, name="stem")(h)
    h = L.ReLU(6.0, name="stem_relu")(BN("stem_bn")(h))
    width = stem
    for i, (expansion, filters, stride) in enumerate(blocks, 1):
        block = h
        h = L.Conv2D(width * expansion, 1, use_bias=False, name=f"b{i}_expand")(h)
        h = L.ReLU(6.0, name=f"b{i}_expand_relu")(BN(f"b{i}_expand_bn")(h))
        h = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"b{i}_dw")(h)
        h = L.ReLU(6.0, name=f"b{i}_dw_relu")(BN(f"b{i}_dw_bn")(h))
        h = BN(f"b{i}_project_bn")(L.Conv2D(filters, 1, use_bias=False, name=f"b{i}_project")(h))
        if stride == 1 and filters == width:
            h = L.Add(name=f"b{i}_add")([block, h])
        width = filters
    h = L.ReLU(6.0, name="head_relu")(BN("head_bn")(L.Conv2D(head, 1, use_bias=False, name="head")(h)))
    h = L.Dropout(0.2, name="dropout")(L.GlobalAveragePooling2D(name="gap")(h))
    y = L.Dense(classes, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="frame_mobilenetv2")


def train_inverted():
    """frame_mobilenetv2, trained by gen_bundled_models.train as the bundled per-frame model is (cached)."""
    figures_path = WORK / "frame_mobilenetv2.json"
    if figures_path.exists() and json.loads(figures_path.read_text()).get("architecture") == INVERTED["model"]:
        return json.loads(figures_path.read_text())
    folder = WORK / "appearance"
    bundled.synthesize(reproduce.CLI, folder, INVERTED["synth"])
    args = argparse.Namespace(epochs=None, test_fraction=0.2, seed=7, out=str(WORK), cli=str(reproduce.CLI),
                              synth_settings={"appearance": INVERTED["synth"]})
    return bundled.train("appearance", folder, args, plan=INVERTED, build=frame_mobilenetv2)


def measure(model, placement):
    """Deltaize at `placement`, then the unrefined model's figures, and those of
    the model refined with each recipe (REPRODUCTION.md's, and its longer
    refinement), and how the latter streams."""
    m = reproduce.MODELS[model]
    teacher = ROOT / m["path"]
    stem = WORK / f"{model}_{placement}"
    delta = stem.with_name(stem.name + "_delta.h5")
    deltaize = ["deltaize", teacher, delta, "--threshold-gradient", "hybrid", "--placement", placement]
    reproduce.run(deltaize)
    unrefined = stem.with_name(stem.name + "_unrefined.json")
    sparsity = ["sparsity", delta, "--data", f"{m['synth']},clips={reproduce.HELD_OUT},seed=1000",
                "--clips", reproduce.HELD_OUT, "--baseline", teacher, "--json", unrefined]
    reproduce.cached(sparsity, unrefined)
    u = json.loads(unrefined.read_text())
    result = {"placement": placement, "dense_accuracy": u["accuracy"]["baseline"],
              "unrefined_accuracy": u["accuracy"]["model"], "unrefined_reduction": u["density_reduction"],
              "commands": [reproduce.display(a) for a in (deltaize, sparsity)], "recipes": {}}
    for recipe, settings in RECIPES.items():
        out = stem.with_name(f"{stem.name}_{recipe}.h5")
        report = out.with_suffix(".json")
        refine = reproduce.refine_args(model, settings, delta, out, report)
        reproduce.cached(refine, report)
        r = json.loads(report.read_text())
        streamed = out.with_name(out.stem + "_stream.json")
        stream = ["stream", out, "--data", f"{m['synth']},clips=40,seed=1000", "--frames", 320, "--json", streamed]
        reproduce.cached(stream, streamed)
        st = json.loads(streamed.read_text())
        result["recipes"][recipe] = {
            "accuracy": r["accuracy"]["after"], "density_reduction": r["density_reduction"],
            "delta_density": r["delta_density"]["after"], "agreement": r["agreement"]["after"],
            "stream": {k: st[k] for k in ("speedup", "speedup_cpu", "theoretical_speedup", "delta_density", "max_deviation")},
            "commands": [reproduce.display(a) for a in (refine, stream)],
        }
        print(f"{model} {placement} {recipe}: dense {result['dense_accuracy']:.3f}, unrefined {result['unrefined_accuracy']:.3f} "
              f"at {result['unrefined_reduction']:.2f}x, refined {r['accuracy']['after']:.3f} at {r['density_reduction']:.2f}x "
              f"(delta density {r['delta_density']['after']:.3f}); streams at {st['speedup']:.2f}x dense "
              f"({st['theoretical_speedup']:.2f}x theoretical, max deviation {st['max_deviation']:.1e})", flush=True)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="frame,mobilenetv2", help="frame (the bundled frame_mobilenet) and/or mobilenetv2")
    p.add_argument("--json", default=str(ROOT / "tools/bench/results/placement_refine.json"))
    a = p.parse_args()
    if not reproduce.CLI.exists():
        sys.exit(f"placement_refine: {reproduce.CLI} is missing: run `make build`")
    WORK.mkdir(parents=True, exist_ok=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": reproduce.RECIPE, "models": {}}
    for model in a.models.split(","):
        entry = {}
        if model == "mobilenetv2":
            entry["training"] = train_inverted()
            reproduce.MODELS[model] = {"path": str((WORK / "frame_mobilenetv2.h5").relative_to(ROOT)),
                                       "synth": reproduce.MODELS["frame"]["synth"]}
        entry["path"] = reproduce.MODELS[model]["path"]
        entry["placements"] = [measure(model, placement) for placement in PLACEMENTS]
        results["models"][model] = entry
    pathlib.Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
