"""Every keras.applications architecture, saved by real Keras in every format,
with a fixed input and Keras's prediction: the large fixtures of
Tests/KerasIOTests/ApplicationModelTests.swift.

For each family (smallest variant, smallest input it accepts, weights=None,
5 classes, logits out) it writes into .fixtures/applications/ (git-ignored):

  <arch>_keras3.h5 / .keras / .weights.h5   Keras 3: model.save twice, save_weights
  <arch>_keras2.h5 / .weights_only.h5       tf-keras: model.save, save_weights
  <arch>_<tag>.in0.npy, <arch>_<tag>.out0.npy   input and Keras's prediction
  manifest.json                             the cases, their files and writers

Every weight gets a non-trivial value: BatchNormalization and Normalization
statistics are set from the batch statistics each layer sees (then perturbed),
so activations neither explode nor vanish through 100+ layers; gammas, betas,
biases and LayerScale factors are random; kernels keep their seeded random
initializers. Nothing is downloaded.

The work is skipped when `stamp` in the folder matches the hash of this script
and the library versions, so `make test` regenerates only after a change.

Run: .venv/bin/python tools/gen_application_models.py [--out DIR] [--only a,b] [--force] [--jobs N]
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import pathlib
import shutil
import sys
import time
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".fixtures/applications"
CLASSES = 5
BATCH = 2
# Extra images the normalization statistics are measured on.
CALIBRATION_BATCH = 6
CHECK_CONDITIONING = False
# The RMS of the logits' input-dependent part (see scale_head).
HEAD_RMS = 0.1
# What the folder takes once written (4.4 GB), with a margin.
DISK_NEEDED = 6 * 2**30
# Rough seconds per case on 2 busy cores, to schedule the longest first.
COST = {"nasnetmobile": 80, "inceptionresnetv2": 50, "densenet121": 28, "inceptionv3": 20, "convnexttiny": 20,
        "regnetx002": 20, "efficientnetv2b0": 16, "xception": 15, "efficientnetb0": 12, "resnet50": 10, "vgg16": 10}

# name, class name in keras.applications, keyword arguments, input side,
# input range, writers ("keras3" and/or "keras2").
CASES = [
    ("resnet50", "ResNet50", {}, 32, (-1, 1), ("keras3", "keras2")),
    ("resnet50v2", "ResNet50V2", {}, 32, (-1, 1), ("keras3", "keras2")),
    ("mobilenet", "MobileNet", {"alpha": 0.25}, 32, (-1, 1), ("keras3", "keras2")),
    ("mobilenetv2", "MobileNetV2", {"alpha": 0.35}, 32, (-1, 1), ("keras3", "keras2")),
    ("mobilenetv3small", "MobileNetV3Small", {"alpha": 0.75}, 32, (0, 255), ("keras3", "keras2")),
    ("mobilenetv3large", "MobileNetV3Large", {"alpha": 0.75}, 32, (0, 255), ("keras3", "keras2")),
    ("efficientnetb0", "EfficientNetB0", {}, 32, (0, 255), ("keras3", "keras2")),
    ("efficientnetv2b0", "EfficientNetV2B0", {}, 32, (0, 255), ("keras3", "keras2")),
    ("densenet121", "DenseNet121", {}, 32, (-1, 1), ("keras3", "keras2")),
    ("inceptionv3", "InceptionV3", {}, 75, (-1, 1), ("keras3", "keras2")),
    ("inceptionresnetv2", "InceptionResNetV2", {}, 75, (-1, 1), ("keras3", "keras2")),
    ("xception", "Xception", {}, 71, (-1, 1), ("keras3", "keras2")),
    ("nasnetmobile", "NASNetMobile", {}, 32, (-1, 1), ("keras3", "keras2")),
    ("vgg16", "VGG16", {}, 32, (-1, 1), ("keras3", "keras2")),
    ("convnexttiny", "ConvNeXtTiny", {}, 32, (0, 255), ("keras3", "keras2")),
    # RegNet is only in tf-keras's applications (Keras 3 dropped it).
    ("regnetx002", "RegNetX002", {}, 32, (0, 255), ("keras2",)),
]


def stamp_text():
    import importlib.metadata as md
    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()
    versions = " ".join(f"{p}={md.version(p)}" for p in ("keras", "tf-keras", "tensorflow-cpu", "h5py", "numpy"))
    return f"{digest} {versions}\n"


def up_to_date(out):
    stamp = out / "stamp"
    if not stamp.exists() or stamp.read_text() != stamp_text() or not (out / "manifest.json").exists():
        return False
    manifest = json.loads((out / "manifest.json").read_text())
    return all((out / f).exists() for case in manifest["cases"] for f in case_files(case))


def case_files(case):
    return list(case["files"].values()) + [case["input"], case["output"]]


# --- generation (in worker processes, one case at a time) -------------------

def leaf_name(w):
    name = getattr(w, "path", None) or w.name
    return name.split("/")[-1].split(":")[0]


def calibrate_normalization(model, x, rng):
    """Sets every BatchNormalization/Normalization layer's statistics from the
    activations it sees on `x` (a calibration batch), perturbed so that they
    are not the exact moments: one inference pass in which each such layer,
    before computing, measures its actual input (already normalized upstream).
    Activations then neither explode nor vanish through hundreds of layers.
    The variance is kept at least 5% of the mean square, so that no channel
    divides by a near-zero spread and amplifies float rounding (which would
    test the fixture's conditioning, not the loader)."""
    import numpy as np

    def calibrating(layer, call):
        def wrapper(inputs, *args, **kwargs):
            value = np.asarray(inputs, dtype=np.float64)
            axes = tuple(range(value.ndim - 1))
            mean, square = value.mean(axis=axes), (value ** 2).mean(axis=axes)
            mean = -mean * rng.uniform(0.0, 0.5, mean.shape)
            var = (square + 1e-3) * rng.uniform(0.7, 1.4, square.shape)
            for w in layer.weights:
                leaf = leaf_name(w)
                if leaf in ("moving_mean", "mean"):
                    w.assign(mean.reshape(w.shape).astype(np.float32))
                elif leaf in ("moving_variance", "variance"):
                    w.assign(var.reshape(w.shape).astype(np.float32))
            if type(layer).__name__ == "Normalization":
                layer.finalize_state()  # it caches mean and variance as tensors
            return call(inputs, *args, **kwargs)
        return wrapper

    layers = [l for l in model.layers if type(l).__name__ in ("BatchNormalization", "Normalization")]
    for layer in layers:
        object.__setattr__(layer, "call", calibrating(layer, layer.call))
    try:
        model(x, training=False)
    finally:
        for layer in layers:
            object.__delattr__(layer, "call")


def randomize(model, rng):
    import numpy as np
    for layer in model.layers:
        for w in layer.weights:
            if "float" not in str(getattr(w.dtype, "name", w.dtype)):
                continue  # Normalization's int count
            leaf, shape = leaf_name(w), tuple(w.shape)
            if type(layer).__name__ == "LayerScale":
                value = rng.uniform(0.2, 0.8, shape)
            elif leaf == "gamma":
                value = rng.uniform(0.6, 1.4, shape)
            elif leaf in ("beta", "bias"):
                value = rng.uniform(-0.2, 0.2, shape)
            elif leaf in ("moving_mean", "mean"):
                value = rng.uniform(-0.3, 0.3, shape)
            elif leaf in ("moving_variance", "variance"):
                value = rng.uniform(0.5, 1.5, shape)
            else:
                continue  # kernels keep their seeded random initializer
            w.assign(value.astype(np.float32))
    # Residual branches ending in BatchNormalization add a fraction of their
    # input (as trained ResNets do), which keeps float32 rounding from
    # accumulating through 50+ full-strength layers.
    for layer in model.layers:
        if type(layer).__name__ != "Add":
            continue
        for tensor in layer.input:
            source = tensor._keras_history[0]
            if type(source).__name__ == "BatchNormalization" and source.scale:
                source.gamma.assign(rng.uniform(0.1, 0.3, tuple(source.gamma.shape)).astype(np.float32))


def scale_head(model, x):
    """Scales the classifier's kernel so that the logits' input-dependent
    part has an RMS of HEAD_RMS. The tolerance, 1e-4·(1+|y|), then acts as
    about 1e-4 absolute, i.e. 1e-3 of the logits' spread: above the float32
    rounding Keras itself accumulates through 240 layers of random weights
    (`--conditioning` measures it: up to ~7e-5 of an RMS-0.3 logit for
    EfficientNet), while any loading, layout or formula error moves the
    logits by far more."""
    import numpy as np
    head = next(l for l in reversed(model.layers) if getattr(l, "kernel", None) is not None)
    assert getattr(head, "bias", None) is not None, f"the classifier {head.name} has no bias"
    logits = np.asarray(model(x, training=False)) - np.asarray(head.bias)
    head.kernel.assign((np.asarray(head.kernel) * (HEAD_RMS / np.sqrt(np.mean(logits ** 2)))).astype(np.float32))


def float32_error(k, model, x, y):
    """How far Keras's own float32 prediction is from the same model in
    float64: the fixture's conditioning, max |y32 − y64|/(1+|y64|)."""
    import numpy as np
    custom = {}
    for module in ("convnext", "inception_resnet_v2"):
        source = getattr(k.applications, module, None)
        for cls in ("LayerScale", "StochasticDepth", "CustomScaleLayer"):
            if source is not None and hasattr(source, cls):
                custom[cls] = getattr(source, cls)
    if k.__version__.startswith("2"):
        import importlib
        for module in ("convnext", "inception_resnet_v2"):
            source = importlib.import_module(f"tf_keras.src.applications.{module}")
            for cls in ("LayerScale", "StochasticDepth", "CustomScaleLayer"):
                if hasattr(source, cls):
                    custom[cls] = getattr(source, cls)
    config = json.loads(json.dumps(model.get_config()).replace('"float32"', '"float64"'))
    double = k.Model.from_config(config, custom_objects=custom)
    for a, b in zip(double.weights, model.weights):
        a.assign(np.asarray(b).astype(a.dtype.name if hasattr(a.dtype, "name") else a.dtype))
    for layer in double.layers:
        if type(layer).__name__ == "Normalization":
            layer.finalize_state()
    y64 = np.asarray(double(x.astype(np.float64), training=False))
    return float(np.max(np.abs(y - y64) / (1 + np.abs(y64))))


def save_every_format(model, out, stem, tag):
    """Saves `model` into `out` in every format its writer has (Keras 3: `.h5`,
    `.keras`, `.weights.h5`; tf-keras: `.h5`, weights-only `.h5`) and returns
    the file names by format."""
    if tag == "keras3":
        files = {"h5": f"{stem}.h5", "keras": f"{stem}.keras", "weights.h5": f"{stem}.weights.h5"}
        model.save(out / files["h5"])
        model.save(out / files["keras"])
        model.save_weights(out / files["weights.h5"])
    else:
        files = {"h5": f"{stem}.h5", "weights_only.h5": f"{stem}.weights_only.h5"}
        model.save(out / files["h5"])
        model.save_weights(out / files["weights_only.h5"])
    return files


_modules = {}


def keras_module(tag):
    """keras (Keras 3) or tf_keras, imported once per worker process."""
    if tag not in _modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if tag == "keras3":
            import keras as k
        else:
            import tf_keras as k
        _modules[tag] = k
    return _modules[tag]


def generate(task):
    """Writes one case (an architecture saved by one writer); returns its manifest entry."""
    name, tag, out, check = task
    global CHECK_CONDITIONING
    CHECK_CONDITIONING = check
    import numpy as np
    k = keras_module(tag)
    _, cls, kwargs, side, (low, high), _ = next(c for c in CASES if c[0] == name)
    start = time.time()
    stem = f"{name}_{tag}"
    seed = zlib.crc32(stem.encode())
    k.utils.set_random_seed(seed % 2**31)
    rng = np.random.default_rng(seed)
    model = getattr(k.applications, cls)(weights=None, input_shape=(side, side, 3), classes=CLASSES,
                                         classifier_activation=None, **kwargs)
    built = time.time() - start
    x = rng.uniform(low, high, (BATCH, side, side, 3)).astype(np.float32)
    randomize(model, rng)
    calibration = rng.uniform(low, high, (CALIBRATION_BATCH, side, side, 3)).astype(np.float32)
    calibrate_normalization(model, np.concatenate([x, calibration]), rng)
    scale_head(model, x)
    y = np.asarray(model(x, training=False))
    assert np.all(np.isfinite(y)), f"{stem}: non-finite prediction"
    conditioning = float32_error(k, model, x, y) if CHECK_CONDITIONING else None
    np.save(out / f"{stem}.in0.npy", x)
    np.save(out / f"{stem}.out0.npy", y)
    files = save_every_format(model, out, stem, tag)
    seconds = time.time() - start
    print(f"  {stem}: {len(model.layers)} layers, {model.count_params()} params, |y|max {np.abs(y).max():.3g}, "
          f"{seconds:.1f}s ({built:.1f}s building)", flush=True)
    entry = {"name": stem, "architecture": cls, "writer": tag, "keras_version": k.__version__,
             "input_shape": list(x.shape), "files": files, "input": f"{stem}.in0.npy", "output": f"{stem}.out0.npy",
             "params": int(model.count_params()), "layers": len(model.layers), "output_abs_max": float(np.abs(y).max()),
             "seconds": round(seconds, 2)}
    if conditioning is not None:
        entry["float32_error"] = conditioning
        print(f"  {stem}: Keras float32 vs float64: {conditioning:.2e}", flush=True)
    del model
    k.backend.clear_session()
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default="", help="comma-separated case names (no stamp is written)")
    parser.add_argument("--force", action="store_true", help="regenerate even when up to date")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--conditioning", action="store_true",
                        help="also predict in float64 and record Keras's own float32 error (slower)")
    args = parser.parse_args()
    out = args.out.resolve()
    names = [c[0] for c in CASES]
    only = [n for n in args.only.split(",") if n]
    unknown = set(only) - set(names)
    if unknown:
        sys.exit(f"unknown cases: {sorted(unknown)}; known: {names}")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    if not only and not args.force and up_to_date(out):
        print(f"gen_application_models: {shown} is up to date")
        return
    start = time.time()
    out.mkdir(parents=True, exist_ok=True)
    (out / "stamp").unlink(missing_ok=True)
    if not only:
        for f in out.iterdir():
            f.unlink()
        free = shutil.disk_usage(out).free
        if free < DISK_NEEDED:
            sys.exit(f"gen_application_models: {shown} needs about {DISK_NEEDED / 2**30:.0f} GB free, "
                     f"the disk has {free / 2**30:.1f} GB")
    # Longest first, so that the two workers finish together.
    tasks = sorted(((c[0], tag, out, args.conditioning) for c in CASES if not only or c[0] in only for tag in c[5]),
                   key=lambda t: -COST.get(t[0], 10))
    print(f"gen_application_models: writing {len(tasks)} cases into {shown} with {args.jobs} workers", flush=True)
    # The first failing case stops the run: leaving the pool terminates the
    # workers still writing, instead of waiting for every queued case.
    with multiprocessing.get_context("spawn").Pool(max(args.jobs, 1)) as pool:
        cases = list(pool.imap_unordered(generate, tasks))
    previous = json.loads((out / "manifest.json").read_text())["cases"] if only and (out / "manifest.json").exists() else []
    merged = {c["name"]: c for c in previous}
    merged.update({c["name"]: c for c in cases})
    manifest = {"generator": "tools/gen_application_models.py", "classes": CLASSES,
                "cases": sorted(merged.values(), key=lambda c: c["name"]),
                "seconds": round(time.time() - start, 1)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if not only:
        (out / "stamp").write_text(stamp_text())
    print(f"gen_application_models: {len(cases)} cases in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
