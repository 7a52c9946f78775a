"""One SGD step of a delta model under tf.distribute.MirroredStrategy over two
logical CPU devices, and the same step on one device, for
tests/interop/test_keras_delta.py.

    python tests/interop/delta_mirrored_step.py MODEL.keras OUT.npz [--clips-per-replica 2]

Loads MODEL (Keras 3, after `import keras_delta`) once per run, makes a
seeded global batch of 2 replicas x whole clips (the frames-as-batch
clip_length of the model's DeltaActivation layers, 1 when none has one), a
seeded MSE target, and runs `fit` for one step of SGD on the full global batch:
first under MirroredStrategy (each replica gets half the batch, whole clips),
then on one device. Writes both losses and all weights after the step to OUT.
The logical devices must be set before TensorFlow initialises, hence a process
of its own.
"""
import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools" / "keras_delta"))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import keras_delta  # noqa: E402

REPLICAS = 2


def clip_length_of(model):
    lengths = {l.clip_length for l in model.layers if isinstance(l, keras_delta.DeltaActivation) and l.clip_length}
    if len(lengths) > 1:
        raise SystemExit(f"delta_mirrored_step: the model's delta layers disagree on clip_length: {sorted(lengths)}")
    return lengths.pop() if lengths else 1


def one_step(path, x, y, strategy, freeze_batchnorm=False):
    with strategy.scope():
        model = keras.models.load_model(path)
        if freeze_batchnorm:
            # Training-mode BatchNormalization normalizes each replica's half batch on its own;
            # frozen (inference statistics, as `keras-delta refine --freeze-batchnorm`) it is the same everywhere.
            for layer in model.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", jit_compile=False)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x))
    history = model.fit(data, epochs=1, shuffle=False, verbose=0)
    weights = {w.path: np.asarray(w.numpy()) for w in model.weights}
    return float(history.history["loss"][0]), weights


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--clips-per-replica", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--freeze-batchnorm", action="store_true")
    args = parser.parse_args()

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert len(devices) == REPLICAS, devices
    probe = keras.models.load_model(args.model)
    clip = clip_length_of(probe)
    batch = REPLICAS * args.clips_per_replica * clip
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(0, 1, size=(batch,) + tuple(probe.input_shape[1:])).astype(np.float32)
    y = rng.standard_normal((batch,) + tuple(probe.output_shape[1:])).astype(np.float32)
    before = {w.path: np.asarray(w.numpy()) for w in probe.weights}

    mirrored = tf.distribute.MirroredStrategy(devices)
    assert mirrored.num_replicas_in_sync == REPLICAS
    # How the global batch is split: the frames each replica gets.
    split = mirrored.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(batch))
    replica_frames = [np.asarray(t.numpy()) for t in mirrored.experimental_local_results(next(iter(split)))]
    loss_m, weights_m = one_step(args.model, x, y, mirrored, args.freeze_batchnorm)
    loss_s, weights_s = one_step(args.model, x, y, tf.distribute.get_strategy(), args.freeze_batchnorm)

    arrays = {"loss_mirrored": np.float64(loss_m), "loss_single": np.float64(loss_s), "clip_length": clip,
              "batch": batch, "replicas": mirrored.num_replicas_in_sync, "x": x}
    for i, frames in enumerate(replica_frames):
        arrays[f"replica{i}_x"] = frames
    for prefix, table in (("before", before), ("mirrored", weights_m), ("single", weights_s)):
        for name, value in table.items():
            arrays[f"{prefix}:{name}"] = value
    np.savez(args.out, **arrays)


if __name__ == "__main__":
    main()
