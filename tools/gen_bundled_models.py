"""The bundled "pretrained" models of issue 13, trained by real Keras 3 on the
synthetic action set, and models/README.md written from their figures.

Data: `keras-delta data synth -o DIR --mode appearance|motion --classes K
--clips N --frames T --size S --seed s` writes DIR/clips.npy float32
[N, T, H, W, 3] with pixel values 0..255, DIR/labels.npy [N] and
DIR/classes.txt. With `--synth DIR` this script runs it itself (the binary
is $KERAS_DELTA_CLI, default .build/release/keras-delta) with the settings in
MODES. Both models take raw pixels and scale inside (Rescaling). The split is
by clip: a seeded permutation, the last `--test-fraction` of the clips held
out, so no frame of a test clip is ever trained on.

1. `frame_mobilenet` (appearance mode, frames as batch). A per-frame
   MobileNetV1-style CNN: Rescaling(1/127.5, -1); Conv2D 3x3 + BN + ReLU6;
   depthwise-separable blocks (DepthwiseConv2D 3x3 + BN + ReLU6, Conv2D 1x1 +
   BN + ReLU6), some with stride 2; GlobalAveragePooling2D; Dropout; Dense
   softmax. Trained on random frames of the training clips, each labelled
   with its clip's class, with colour-permutation and flip nuisance.
   Reported: per-frame accuracy and clip accuracy (mean of the frames'
   probabilities) on the held-out clips.
2. `clip_temporal` (motion mode, explicit time axis). Input [T, H, W, 3]:
   Rescaling; TimeDistributed(Conv2D stride 2 + BN + ReLU); Conv3D 3x3x3 +
   BN + ReLU blocks with MaxPooling3D (1,2,2) between; GlobalAveragePooling3D;
   Dense softmax. The motion classes need temporal order (a clip played
   backwards has the same frames), and per-frame features pooled over space
   before any temporal layer lose where things moved, so time is mixed early.
   Trained with flips, transposition and time reversal that relabel the
   motion. Reported: clip accuracy.

Each must reach >= 90 % held-out clip accuracy (the script exits 1 when one
does not). Saved as `.h5` by Keras 3 with the optimizer, plus a JSON of the
figures; when the CLI is there, `keras-delta predict` is checked against
Keras' predict (1e-4). TensorFlow runs on 2 threads (KERAS_DELTA_THREADS).

Run (everything, about 15 minutes on 2 cores):
  KERAS_DELTA_CLI=.build/release/keras-delta .venv/bin/python tools/gen_bundled_models.py --synth .build/bundled-data
(`make models`).
`--only appearance|motion` trains one; `--epochs 1 --out /tmp/x` checks the
pipeline; `--appearance DIR` / `--motion DIR` use premade synth folders.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras

# The machine is shared: two threads, whatever the core count.
tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("KERAS_DELTA_THREADS", "2")))
tf.config.threading.set_inter_op_parallelism_threads(1)

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET_ACCURACY = 0.90


def load_synth(folder, test_fraction, seed):
    """clips [N,T,H,W,3] float32 0..255, labels [N], class names; split by clip."""
    folder = pathlib.Path(folder)
    for name in ("clips.npy", "labels.npy"):
        if not (folder / name).exists():
            raise SystemExit(f"gen_bundled_models: {folder / name} is missing: run `keras-delta data synth -o {folder}`")
    clips = np.load(folder / "clips.npy", mmap_mode="r")
    labels = np.load(folder / "labels.npy").astype(np.int64)
    if clips.ndim != 5 or clips.shape[-1] != 3 or len(labels) != len(clips):
        raise SystemExit(f"gen_bundled_models: {folder}: clips.npy {clips.shape} and labels.npy {labels.shape} "
                         "are not [N,T,H,W,3] and [N]")
    names_file = folder / "classes.txt"
    if names_file.exists():
        names = [n for n in names_file.read_text().splitlines() if n]
    else:
        names = [str(i) for i in range(labels.max() + 1)]
    order = np.random.default_rng(seed).permutation(len(clips))
    n_test = max(1, int(round(len(clips) * test_fraction)))
    train, test = np.sort(order[:-n_test]), np.sort(order[-n_test:])
    clips = np.asarray(clips, np.float32)
    return (clips[train], labels[train]), (clips[test], labels[test]), names


def frame_mobilenet(frame_shape, classes, width=16, stem_stride=2, blocks=((32, 2), (32, 1), (64, 2), (64, 1)),
                    momentum=0.9):
    """Per-frame MobileNetV1-style classifier on raw 0..255 pixels."""
    L = keras.layers
    BN = lambda name: L.BatchNormalization(momentum=momentum, name=name)
    x = keras.Input(frame_shape, name="frames")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    h = L.Conv2D(width, 3, strides=stem_stride, padding="same", use_bias=False, name="stem")(h)
    h = BN("stem_bn")(h)
    h = L.ReLU(6.0, name="stem_relu")(h)
    for i, (filters, stride) in enumerate(blocks, 1):
        h = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"dw{i}")(h)
        h = BN(f"dw{i}_bn")(h)
        h = L.ReLU(6.0, name=f"dw{i}_relu")(h)
        h = L.Conv2D(filters, 1, use_bias=False, name=f"pw{i}")(h)
        h = BN(f"pw{i}_bn")(h)
        h = L.ReLU(6.0, name=f"pw{i}_relu")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    h = L.Dropout(0.2, name="dropout")(h)
    y = L.Dense(classes, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="frame_mobilenet")


def clip_temporal(clip_shape, classes, stem=16, widths=(24, 32, 48), momentum=0.9):
    """A TimeDistributed per-frame stem, then small Conv3D blocks whose 3-frame
    kernels see motion while it is still local (the motion classes need temporal
    order: a clip played backwards has the same frames), mean over space and time."""
    L = keras.layers
    x = keras.Input(clip_shape, name="clip")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    h = L.TimeDistributed(L.Conv2D(stem, 3, strides=2, padding="same", use_bias=False), name="td_stem")(h)
    h = L.TimeDistributed(L.BatchNormalization(momentum=momentum), name="td_stem_bn")(h)
    h = L.TimeDistributed(L.ReLU(), name="td_stem_relu")(h)
    for i, w in enumerate(widths, 1):
        if i > 1:
            h = L.MaxPooling3D((1, 2, 2), name=f"pool{i}")(h)
        h = L.Conv3D(w, 3, padding="same", use_bias=False, name=f"conv3d{i}")(h)
        h = L.BatchNormalization(momentum=momentum, name=f"conv3d{i}_bn")(h)
        h = L.ReLU(name=f"conv3d{i}_relu")(h)
    h = L.GlobalAveragePooling3D(name="gap")(h)
    h = L.Dropout(0.2, name="dropout")(h)
    y = L.Dense(classes, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="clip_temporal")


# What each symmetry of the frame does to a motion class (classes it maps to itself are left out).
MOTION_SYMMETRIES = {
    "flip_x": {"shift_left": "shift_right", "rotate_cw": "rotate_ccw"},
    "flip_y": {"shift_up": "shift_down", "rotate_cw": "rotate_ccw"},
    "transpose": {"shift_left": "shift_up", "shift_right": "shift_down", "rotate_cw": "rotate_ccw"},
    "reverse_time": {"shift_left": "shift_right", "shift_up": "shift_down", "rotate_cw": "rotate_ccw",
                     "grow": "shrink"},
}


def symmetry_table(mapping, names):
    """Label -> label under a symmetry, or None when a class's image is not in the set."""
    pairs = {**mapping, **{b: a for a, b in mapping.items()}}
    image = [pairs.get(n, n) for n in names]
    return None if any(n not in names for n in image) else tf.constant([names.index(n) for n in image])


def augment_clips(clips, labels, names):
    """Motion-mode nuisance per clip: a colour-channel permutation, and the
    flips, transposition and time reversal, each relabelling the motion."""
    n = tf.shape(clips)[0]
    perm = tf.argsort(tf.random.uniform([n, 3]), axis=-1)
    clips = tf.gather(clips, perm, axis=-1, batch_dims=1)
    axes = {"flip_x": lambda c: tf.reverse(c, [3]), "flip_y": lambda c: tf.reverse(c, [2]),
            "transpose": lambda c: tf.transpose(c, [0, 1, 3, 2, 4]), "reverse_time": lambda c: tf.reverse(c, [1])}
    for name, apply in axes.items():
        table = symmetry_table(MOTION_SYMMETRIES[name], names)
        if table is None:
            continue
        pick = tf.random.uniform([n]) < 0.5
        clips = tf.where(pick[:, None, None, None, None], apply(clips), clips)
        labels = tf.where(pick, tf.gather(tf.cast(table, labels.dtype), labels), labels)
    return clips, labels


def augment_frames(frames):
    """Nuisance the classes do not depend on, drawn per frame: a colour-channel
    permutation and one of the 8 flips/quarter turns of a square frame."""
    n = tf.shape(frames)[0]
    perm = tf.argsort(tf.random.uniform([n, 3]), axis=-1)
    frames = tf.gather(frames, perm, axis=-1, batch_dims=1)
    frames = tf.image.random_flip_left_right(frames)
    frames = tf.image.random_flip_up_down(frames)
    swap = tf.random.uniform([n, 1, 1, 1]) < 0.5
    return tf.where(swap, tf.transpose(frames, [0, 2, 1, 3]), frames)


def frame_dataset(clips, labels, batch_frames, frames_per_clip, seed, augment):
    """Training frames as batch: each epoch `frames_per_clip` random frames of
    every training clip, shuffled across clips, in batches of `batch_frames`."""
    t = clips.shape[1]
    ds = tf.data.Dataset.from_tensor_slices((clips, labels))
    ds = ds.shuffle(len(clips), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda c, y: (tf.gather(c, tf.random.shuffle(tf.range(t))[:frames_per_clip]),
                              tf.repeat(y, frames_per_clip)))
    ds = ds.unbatch().shuffle(8 * batch_frames, seed=seed).batch(batch_frames)
    if augment:
        ds = ds.map(lambda x, y: (augment_frames(x), y))
    return ds.prefetch(2)


def clip_frames(clips, labels, clips_per_batch):
    """Held-out frames as batch: whole clips, in order ([clips_per_batch*T, H, W, 3])."""
    t = clips.shape[1]
    ds = tf.data.Dataset.from_tensor_slices((clips, labels)).batch(clips_per_batch)
    return ds.map(lambda c, y: (tf.reshape(c, tf.concat([[-1], tf.shape(c)[2:]], 0)), tf.repeat(y, t)))


def evaluate_frames(model, clips, labels):
    """Per-frame accuracy, and clip accuracy from the mean of the frames' probabilities."""
    t = clips.shape[1]
    probs = model.predict(clips.reshape((-1,) + clips.shape[2:]), batch_size=8 * t, verbose=0)
    probs = probs.reshape(len(clips), t, -1)
    frame_acc = float(np.mean(probs.argmax(-1) == labels[:, None]))
    clip_acc = float(np.mean(probs.mean(1).argmax(-1) == labels))
    return {"frame_accuracy": frame_acc, "clip_accuracy": clip_acc, "accuracy": clip_acc}


def evaluate_clips(model, clips, labels):
    acc = float(np.mean(model.predict(clips, batch_size=8, verbose=0).argmax(-1) == labels))
    return {"clip_accuracy": acc, "accuracy": acc}


# Everything that fixes a bundled model: the synthetic set it is trained on and how.
MODES = {
    "appearance": {
        "synth": {"mode": "appearance", "classes": 6, "clips": 3000, "frames": 8, "size": 32, "seed": 1},
        "model": {"width": 24, "stem_stride": 1, "blocks": [[32, 1], [64, 2], [64, 1], [128, 2], [128, 1]]},
        "epochs": 14, "learning_rate": 3e-3, "batch": 64, "frames_per_clip": 2,
    },
    "motion": {
        "synth": {"mode": "motion", "classes": 10, "clips": 1000, "frames": 8, "size": 32, "seed": 2},
        "model": {"stem": 16, "widths": [24, 32, 48]},
        "epochs": 10, "learning_rate": 3e-3, "batch": 16,
    },
}


def synth_arguments(settings):
    return ["data", "synth", "--mode", settings["mode"], "--classes", str(settings["classes"]),
            "--clips", str(settings["clips"]), "--frames", str(settings["frames"]), "--size", str(settings["size"]),
            "--seed", str(settings["seed"])]


def synthesize(cli, folder, settings):
    """Runs `keras-delta data synth` into folder, unless it already holds that very set."""
    folder = pathlib.Path(folder)
    stamp = folder / "synth.json"
    if stamp.exists() and json.loads(stamp.read_text()) == settings and (folder / "clips.npy").exists():
        print(f"{folder}: reusing the synthetic set made by {' '.join(synth_arguments(settings))}")
        return
    if not cli or not pathlib.Path(cli).exists():
        raise SystemExit(f"gen_bundled_models: the keras-delta CLI {cli!r} is missing: build it with "
                         "`swift build -c release` or set KERAS_DELTA_CLI")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(cli)] + synth_arguments(settings) + ["-o", str(folder)], check=True)
    stamp.write_text(json.dumps(settings))


def cosine(base, epochs):
    """Per-epoch cosine decay; a callback, so the saved optimizer keeps a plain learning rate."""
    return keras.callbacks.LearningRateScheduler(
        lambda epoch: float(base * 0.5 * (1 + np.cos(np.pi * epoch / epochs))))


def check_in_swift(cli, path, inputs, tolerance=1e-4):
    """Runs `keras-delta predict` on inputs and returns the largest difference from Keras' predict."""
    import tempfile
    model = keras.models.load_model(path)
    expected = model.predict(inputs, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/x.npy", inputs)
        subprocess.run([str(cli), "predict", str(path), "-i", f"{tmp}/x.npy", "-o", f"{tmp}/y.npy"], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(f"{tmp}/y.npy")
    if got.shape != expected.shape:
        raise SystemExit(f"gen_bundled_models: {path}: Swift predicts {got.shape}, Keras {expected.shape}")
    diff = float(np.max(np.abs(got - expected)))
    print(f"{path}: keras-delta predict matches Keras to {diff:.2e} on {len(inputs)} inputs")
    if diff > tolerance:
        raise SystemExit(f"gen_bundled_models: {path}: Swift and Keras differ by {diff:.2e} > {tolerance}")
    return diff


def train(kind, folder, args, plan=None, build=None):
    """Trains, saves and checks the model of `kind`; `plan` and `build` (a
    model function taking the input shape, the class count and plan["model"])
    replace MODES[kind] and the bundled architecture, for other models trained the same way."""
    plan = plan or MODES[kind]
    epochs = args.epochs or plan["epochs"]
    (train_x, train_y), (test_x, test_y), names = load_synth(folder, args.test_fraction, args.seed)
    keras.utils.set_random_seed(args.seed)
    classes = len(names)
    if kind == "appearance":
        model = (build or frame_mobilenet)(train_x.shape[2:], classes, **plan["model"])
        fit_data = frame_dataset(train_x, train_y, plan["batch"], plan["frames_per_clip"], args.seed, augment=True)
        val_data = clip_frames(test_x, test_y, 8)
    else:
        model = (build or clip_temporal)(train_x.shape[1:], classes, **plan["model"])
        fit_data = (tf.data.Dataset.from_tensor_slices((train_x, train_y))
                    .shuffle(len(train_x), seed=args.seed, reshuffle_each_iteration=True).batch(plan["batch"])
                    .map(lambda c, y: augment_clips(c, y, names)).prefetch(2))
        val_data = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(plan["batch"])
    model.compile(optimizer=keras.optimizers.Adam(plan["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.time()
    model.fit(fit_data, validation_data=val_data, epochs=epochs, callbacks=[cosine(plan["learning_rate"], epochs)],
              verbose=2)
    seconds = time.time() - start
    figures = (evaluate_frames if kind == "appearance" else evaluate_clips)(model, test_x, test_y)
    batch_norm = [l for l in model._flatten_layers() if isinstance(l, keras.layers.BatchNormalization)]
    figures.update({
        "model": model.name, "mode": kind, "classes": names,
        "synth_command": "keras-delta " + " ".join(synth_arguments(args.synth_settings[kind])) if kind in args.synth_settings else None,
        "data": str(folder), "train_clips": int(len(train_x)), "test_clips": int(len(test_x)),
        "test_frames": int(test_x.shape[0] * test_x.shape[1]), "input_shape": list(model.input_shape[1:]),
        "parameters": int(model.count_params()), "epochs": epochs, "learning_rate": plan["learning_rate"],
        "architecture": plan["model"], "training_seconds": round(seconds, 1),
        "batch_norm_moving_variance_range": [float(min(np.min(l.moving_variance) for l in batch_norm)),
                                             float(max(np.max(l.moving_variance) for l in batch_norm))],
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
    })
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{model.name}.h5"
    model.save(path)
    figures["file"] = path.name
    figures["file_bytes"] = path.stat().st_size
    if args.cli and pathlib.Path(args.cli).exists():
        inputs = test_x[:4].reshape((-1,) + test_x.shape[2:]) if kind == "appearance" else test_x[:4]
        figures["swift_predict_max_difference"] = check_in_swift(args.cli, path, inputs)
    (out / f"{model.name}.json").write_text(json.dumps(figures, indent=1) + "\n")
    extra = f"frame accuracy {figures['frame_accuracy']:.3f}, " if "frame_accuracy" in figures else ""
    print(f"{path}: {kind}, {extra}clip accuracy {figures['clip_accuracy']:.3f} on {len(test_x)} held-out clips, "
          f"{figures['parameters']} parameters, {figures['file_bytes'] / 1e6:.2f} MB, trained in {seconds:.0f} s")
    return figures


def write_readme(out):
    """models/README.md from the JSON figures of both models: every number in it is generated."""
    out = pathlib.Path(out)
    figures = {k: json.loads((out / f"{n}.json").read_text())
               for k, n in (("appearance", "frame_mobilenet"), ("motion", "clip_temporal"))
               if (out / f"{n}.json").exists()}
    if not figures:
        return
    any_fig = next(iter(figures.values()))
    lines = [
        "# Bundled models",
        "",
        "Stand-ins for the pretrained Keras models a user brings (issue 13): trained by real",
        f"TensorFlow {any_fig['tensorflow_version']} / Keras {any_fig['keras_version']} on the built-in synthetic "
        "action set (DELTA_SPEC.md § Data),",
        "saved by Keras as legacy `.h5` with their optimizer (so training can go on). Both take raw 0..255 RGB",
        "pixels and scale inside the model (`Rescaling(1/127.5, offset=-1)`), and end in a softmax.",
        "Generated by `tools/gen_bundled_models.py`; this file is written by it too, from the `.json` next to each model.",
        "",
        "Regenerate everything (the synthetic sets, both models, their JSON and this README) with `make models`, "
        "which runs:",
        "",
        "```sh",
        "swift build -c release --product keras-delta   # or point KERAS_DELTA_CLI at any keras-delta binary",
        "KERAS_DELTA_CLI=.build/release/keras-delta .venv/bin/python tools/gen_bundled_models.py --synth .build/bundled-data",
        "```",
        "",
        "The split is by clip: a seeded permutation holds out the last "
        f"{any_fig['test_clips'] / (any_fig['test_clips'] + any_fig['train_clips']):.0%} of the clips, so no frame of a "
        "test clip is trained on. Seeds are fixed (data seed in the synth command, `--seed 7` for the split and Keras), "
        "but TensorFlow on CPU is not bit-reproducible across machines, so a rerun lands near, not exactly on, these figures.",
        "",
        "| file | mode | input | parameters | size | test accuracy | epochs | training time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, f in figures.items():
        acc = (f"{f['frame_accuracy']:.1%} per frame, {f['clip_accuracy']:.1%} per clip"
               if "frame_accuracy" in f else f"{f['clip_accuracy']:.1%} per clip")
        lines.append(f"| `{f['file']}` | {kind} | {'×'.join(map(str, f['input_shape']))} | {f['parameters']:,} | "
                     f"{f['file_bytes'] / 1e6:.2f} MB | {acc} | {f['epochs']} | {f['training_seconds']:.0f} s |")
    lines.append("")
    lines.append("Training time is wall-clock for `fit` on a shared 2-core machine (TensorFlow limited to 2 threads).")
    for kind, f in figures.items():
        lines += ["", f"## `{f['file']}`", ""]
        if kind == "appearance":
            lines += [
                "Per-frame MobileNetV1-style CNN for **appearance** mode, in the frames-as-batch layout "
                "(input `[frames, H, W, 3]`; a clip of T frames is a batch of T).",
                f"Stem Conv2D 3×3 ({f['architecture']['width']} filters, stride {f['architecture']['stem_stride']}) "
                "+ BatchNorm + ReLU6, then depthwise-separable blocks (DepthwiseConv2D 3×3 + BatchNorm + ReLU6, "
                "Conv2D 1×1 + BatchNorm + ReLU6) with (filters, stride) "
                + ", ".join(f"({a}, {b})" for a, b in f["architecture"]["blocks"])
                + ", GlobalAveragePooling2D, Dropout 0.2, Dense softmax.",
                f"Trained on single frames ({MODES['appearance']['frames_per_clip']} random frames of each training clip "
                f"per epoch, batches of {MODES['appearance']['batch']}), each labelled with its clip's class, with "
                "per-frame colour-channel permutations, flips and transpositions (the classes do not depend on them).",
                "Per-clip accuracy is the argmax of the mean of the clip's frame probabilities.",
            ]
        else:
            lines += [
                "Video model with an explicit time axis for **motion** mode: input `[clips, T, H, W, 3]`.",
                f"TimeDistributed stem (Conv2D 3×3 stride 2, {f['architecture']['stem']} filters, + BatchNorm + ReLU), "
                "then Conv3D 3×3×3 blocks with "
                + ", ".join(map(str, f["architecture"]["widths"]))
                + " filters (BatchNorm + ReLU; MaxPooling3D (1,2,2) between them), GlobalAveragePooling3D, "
                "Dropout 0.2, Dense softmax. The 3-frame kernels see motion while it is local; the classes need "
                "temporal order (a clip played backwards holds the same frames).",
                "Trained on whole clips with a colour-channel permutation and random flips, transposition and time "
                "reversal, each relabelling the motion (flip left-right swaps shift_left/shift_right and "
                "rotate_cw/rotate_ccw, time reversal also swaps grow/shrink, and so on).",
            ]
        lines += [
            "",
            f"- Data: `{f['synth_command']} -o DIR/{kind}`" if f.get("synth_command") else f"- Data: `{f['data']}`",
            f"- Classes: {', '.join(f['classes'])}",
            f"- Split: {f['train_clips']} training clips, {f['test_clips']} held-out clips"
            + (f" ({f['test_frames']} frames)" if kind == "appearance" else ""),
            f"- Training: Adam, learning rate {f['learning_rate']} with a per-epoch cosine decay, {f['epochs']} epochs, "
            "sparse categorical crossentropy on the softmax output",
            (f"- `keras-delta predict` (Swift) matches Keras' predict on 4 held-out clips to "
             f"{f['swift_predict_max_difference']:.1e}" if "swift_predict_max_difference" in f else
             "- Not checked against `keras-delta predict` (no CLI at KERAS_DELTA_CLI)"),
            f"- BatchNorm moving variances after training span {f['batch_norm_moving_variance_range'][0]:.3g} to "
            f"{f['batch_norm_moving_variance_range'][1]:.3g} (initialised to 1)",
        ]
    lines += ["", "## Checking them in Swift", "", "```sh",
              "keras-delta summary models/frame_mobilenet.h5",
              "keras-delta predict models/frame_mobilenet.h5 -i frames.npy -o probabilities.npy   # [N,32,32,3] 0..255",
              "keras-delta predict models/clip_temporal.h5 -i clips.npy -o probabilities.npy      # [N,8,32,32,3] 0..255",
              "keras-delta deltaize models/frame_mobilenet.h5 /tmp/d.h5 --clip-length 8",
              "keras-delta sparsity /tmp/d.h5 --data DIR/appearance --baseline models/frame_mobilenet.h5 --clips 16",
              "```"]
    lines += ["", "## `frame_cnn.h5`", "",
              "The small untrained model of `tools/gen_demo_model.py`, used by the current `make demo` and some tests; "
              "not made by this script.", ""]
    (out / "README.md").write_text("\n".join(lines))
    print(f"wrote {out / 'README.md'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", metavar="DIR",
                        help="make the synthetic sets with $KERAS_DELTA_CLI into DIR/appearance and DIR/motion")
    parser.add_argument("--appearance", help="folder of `keras-delta data synth --mode appearance` (instead of --synth)")
    parser.add_argument("--motion", help="folder of `keras-delta data synth --mode motion` (instead of --synth)")
    parser.add_argument("--only", choices=sorted(MODES), help="train one of the two models")
    parser.add_argument("--out", default=str(ROOT / "models"))
    parser.add_argument("--epochs", type=int, help="override the epochs of MODES (e.g. 1 to check the pipeline)")
    parser.add_argument("--readme", action="store_true", help="only rewrite OUT/README.md from OUT/*.json")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    folders = {"appearance": args.appearance, "motion": args.motion}
    args.synth_settings = {}
    args.cli = os.environ.get("KERAS_DELTA_CLI", str(ROOT / ".build" / "release" / "keras-delta"))
    if args.synth:
        cli = args.cli
        for kind in MODES:
            if args.only in (None, kind) and not folders[kind]:
                folders[kind] = str(pathlib.Path(args.synth) / kind)
                synthesize(cli, folders[kind], MODES[kind]["synth"])
                args.synth_settings[kind] = MODES[kind]["synth"]
    kinds = [k for k in MODES if folders[k] and args.only in (None, k)]
    if args.readme:
        write_readme(args.out)
        return
    if not kinds:
        parser.error("give --synth DIR, or --appearance DIR and/or --motion DIR")
    results = [train(kind, folders[kind], args) for kind in kinds]
    write_readme(args.out)
    short = [r for r in results if r["accuracy"] < TARGET_ACCURACY]
    for r in short:
        print(f"gen_bundled_models: {r['model']} reached {r['accuracy']:.3f} < {TARGET_ACCURACY} test clip accuracy",
              file=sys.stderr)
    sys.exit(1 if short else 0)


if __name__ == "__main__":
    main()
