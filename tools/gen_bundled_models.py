"""The bundled "pretrained" models of issue 13, trained by real Keras 3 on the
synthetic action set. A SKELETON: the architectures, data handling, training
loop, evaluation and saving work end to end; the sizes, epochs and the final
run that commits models/*.h5 are left to the lead.

Plan
----
Data: `keras-delta data synth -o DIR --mode appearance|motion [--classes K
--clips N --frames T --size S --seed s]` writes DIR/clips.npy float32
[N, T, H, W, 3] with pixel values 0..255, DIR/labels.npy int32 [N] and
DIR/classes.txt. Both models take those raw pixels and scale inside the model
(Rescaling), as users' pretrained models do. The split is by clip: a seeded
permutation, the last `--test-fraction` of the clips held out, so no frame of
a test clip is ever trained on.

1. `frame_mobilenet` (appearance mode, frames as batch). A per-frame
   MobileNetV1-style CNN: Rescaling(1/127.5, -1); Conv2D 3x3/2 + BN + ReLU6;
   depthwise-separable blocks (DepthwiseConv2D 3x3 + BN + ReLU6, Conv2D 1x1 +
   BN + ReLU6), some with stride 2; GlobalAveragePooling2D; Dropout; Dense
   softmax. Trained on single frames, each labelled with its clip's class.
   Reported: per-frame accuracy and clip accuracy (mean of the frames'
   probabilities) on the held-out clips. deltaize later puts DeltaActivation
   (clip_length T) after every ReLU6 and on the input.
2. `clip_temporal` (motion mode, explicit time axis). Input [T, H, W, 3]:
   Rescaling; TimeDistributed(Conv2D + BN + ReLU + MaxPooling2D) x 3;
   TimeDistributed(GlobalAveragePooling2D); Conv1D(k=3, causal) over time +
   ReLU (the motion classes need temporal order: a clip played backwards has
   the same frames); GlobalMaxPooling1D; Dense softmax. Reported: clip
   accuracy.

Each must reach >= 90 % test accuracy (the script says so and exits 1 when
one does not) and stay a few MB. Saved as `.h5` by Keras 3 (compiled with
its optimizer, so the demo can go on training), plus a JSON of the figures
that models/README.md quotes (accuracy, parameters, Keras/TF versions, the
synth command). Training: Adam 1e-3, batch of whole clips shuffled clip-wise,
a few epochs; seeds fixed (keras.utils.set_random_seed) so reruns match on
one machine.

Still to decide (lead): the synth sizes (classes, clips, 32 or 64 px,
frames), widths/depths within a few MB, epochs to reach 90 % on 2 cores in
reasonable time, whether the bundled files replace models/frame_cnn.h5, and
writing models/README.md from the JSON.

Run:
  keras-delta data synth -o /tmp/appearance --mode appearance --clips 600 --size 32 --classes 6
  keras-delta data synth -o /tmp/motion --mode motion --clips 600 --size 32
  .venv/bin/python tools/gen_bundled_models.py --appearance /tmp/appearance --motion /tmp/motion --out models
  (`--epochs 1` for a quick check of the pipeline; either data flag may be left out.)
"""
import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras

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


def frame_mobilenet(frame_shape, classes, width=16, blocks=((32, 2), (32, 1), (64, 2), (64, 1))):
    """Per-frame MobileNetV1-style classifier on raw 0..255 pixels."""
    L = keras.layers
    x = keras.Input(frame_shape, name="frames")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    h = L.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name="stem")(h)
    h = L.BatchNormalization(name="stem_bn")(h)
    h = L.ReLU(6.0, name="stem_relu")(h)
    for i, (filters, stride) in enumerate(blocks, 1):
        h = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"dw{i}")(h)
        h = L.BatchNormalization(name=f"dw{i}_bn")(h)
        h = L.ReLU(6.0, name=f"dw{i}_relu")(h)
        h = L.Conv2D(filters, 1, use_bias=False, name=f"pw{i}")(h)
        h = L.BatchNormalization(name=f"pw{i}_bn")(h)
        h = L.ReLU(6.0, name=f"pw{i}_relu")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    h = L.Dropout(0.2, name="dropout")(h)
    y = L.Dense(classes, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="frame_mobilenet")


def clip_temporal(clip_shape, classes, widths=(16, 32, 32), temporal=48):
    """TimeDistributed per-frame CNN, a causal temporal convolution, max over time."""
    L = keras.layers
    x = keras.Input(clip_shape, name="clip")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    for i, w in enumerate(widths, 1):
        h = L.TimeDistributed(L.Conv2D(w, 3, padding="same", use_bias=False), name=f"td_conv{i}")(h)
        h = L.TimeDistributed(L.BatchNormalization(), name=f"td_bn{i}")(h)
        h = L.TimeDistributed(L.ReLU(), name=f"td_relu{i}")(h)
        h = L.TimeDistributed(L.MaxPooling2D(2), name=f"td_pool{i}")(h)
    h = L.TimeDistributed(L.GlobalAveragePooling2D(), name="td_gap")(h)
    h = L.Conv1D(temporal, 3, padding="causal", activation="relu", name="temporal")(h)
    h = L.GlobalMaxPooling1D(name="time_max")(h)
    y = L.Dense(classes, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="clip_temporal")


def frame_dataset(clips, labels, clips_per_batch, seed, shuffle):
    """Frames as batch: batches of whole clips ([clips_per_batch*T, H, W, 3]), shuffled clip-wise."""
    t = clips.shape[1]
    ds = tf.data.Dataset.from_tensor_slices((clips, labels))
    if shuffle:
        ds = ds.shuffle(len(clips), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(clips_per_batch)
    return ds.map(lambda c, y: (tf.reshape(c, tf.concat([[-1], tf.shape(c)[2:]], 0)), tf.repeat(y, t)))


def evaluate_frames(model, clips, labels):
    t = clips.shape[1]
    probs = model.predict(clips.reshape((-1,) + clips.shape[2:]), batch_size=8 * t, verbose=0)
    probs = probs.reshape(len(clips), t, -1)
    frame_acc = float(np.mean(probs.argmax(-1) == labels[:, None]))
    clip_acc = float(np.mean(probs.mean(1).argmax(-1) == labels))
    return {"frame_accuracy": frame_acc, "clip_accuracy": clip_acc, "accuracy": frame_acc}


def evaluate_clips(model, clips, labels):
    acc = float(np.mean(model.predict(clips, batch_size=8, verbose=0).argmax(-1) == labels))
    return {"clip_accuracy": acc, "accuracy": acc}


def train(kind, folder, args):
    (train_x, train_y), (test_x, test_y), names = load_synth(folder, args.test_fraction, args.seed)
    keras.utils.set_random_seed(args.seed)
    classes = len(names)
    if kind == "appearance":
        model = frame_mobilenet(train_x.shape[2:], classes)
        fit_data = frame_dataset(train_x, train_y, args.clips_per_batch, args.seed, shuffle=True)
        val_data = frame_dataset(test_x, test_y, args.clips_per_batch, args.seed, shuffle=False)
    else:
        model = clip_temporal(train_x.shape[1:], classes)
        fit_data = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(
            len(train_x), seed=args.seed).batch(args.clips_per_batch)
        val_data = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(args.clips_per_batch)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(fit_data, validation_data=val_data, epochs=args.epochs, shuffle=False, verbose=2)  # shuffled clip-wise above
    figures = (evaluate_frames if kind == "appearance" else evaluate_clips)(model, test_x, test_y)
    figures.update({
        "model": model.name, "mode": kind, "data": str(folder), "classes": names,
        "train_clips": int(len(train_x)), "test_clips": int(len(test_x)), "clip_shape": list(train_x.shape[1:]),
        "parameters": int(model.count_params()), "epochs": args.epochs,
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
    })
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{model.name}.h5"
    model.save(path)
    figures["file"] = path.name
    figures["file_bytes"] = path.stat().st_size
    (out / f"{model.name}.json").write_text(json.dumps(figures, indent=1))
    print(f"{path}: {kind}, test accuracy {figures['accuracy']:.3f}, {figures['parameters']} parameters, "
          f"{figures['file_bytes'] / 1e6:.2f} MB")
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appearance", help="folder of `keras-delta data synth --mode appearance`")
    parser.add_argument("--motion", help="folder of `keras-delta data synth --mode motion`")
    parser.add_argument("--out", default=str(ROOT / "models"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--clips-per-batch", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not (args.appearance or args.motion):
        parser.error("give --appearance DIR and/or --motion DIR")
    results = [train(kind, folder, args) for kind, folder in (("appearance", args.appearance),
                                                                ("motion", args.motion)) if folder]
    short = [r for r in results if r["accuracy"] < TARGET_ACCURACY]
    for r in short:
        print(f"gen_bundled_models: {r['model']} reached {r['accuracy']:.3f} < {TARGET_ACCURACY} test accuracy",
              file=sys.stderr)
    sys.exit(1 if short else 0)


if __name__ == "__main__":
    main()
