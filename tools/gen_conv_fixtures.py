#!/usr/bin/env python3
"""Writes the convolution and pooling fixtures of the Swift TensorTests.

For every case it stores, under Tests/TensorTests/Fixtures/conv/, the input
(`<case>_x.npy`), the kernel (`<case>_k.npy`, not for pooling), Keras's output
with the TensorFlow backend (`<case>_y.npy`), a fixed random projection
(`<case>_proj.npy`), and TensorFlow's gradients of sum(output * projection)
with respect to the input (`<case>_dx.npy`) and the kernel (`<case>_dk.npy`).
`cases.json` lists each case's op and arguments; VERSIONS.txt records the
library versions.

Run with the project venv:  .venv/bin/python tools/gen_conv_fixtures.py
"""
import json
import os
import pathlib

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import ops  # noqa: E402

tf.get_logger().setLevel("ERROR")

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/TensorTests/Fixtures/conv"

# name: op, input shape, kernel shape (None for pooling), keyword arguments.
CASES = [
    # Convolution, 1-D.
    ("conv1d_valid_s1", "conv", [2, 9, 3], [3, 3, 4], dict(strides=1, padding="valid")),
    ("conv1d_same_s2_even_input_even_kernel", "conv", [2, 10, 3], [4, 3, 2], dict(strides=2, padding="same")),
    ("conv1d_same_s2_odd_input", "conv", [1, 9, 2], [3, 2, 3], dict(strides=2, padding="same")),
    ("conv1d_causal_d2", "conv", [2, 8, 3], [3, 3, 2], dict(padding="causal", dilation_rate=2)),
    ("conv1d_causal_s2", "conv", [1, 9, 2], [2, 2, 3], dict(strides=2, padding="causal")),
    ("conv1d_groups2_same", "conv", [2, 7, 4], [3, 2, 6], dict(padding="same")),
    # Convolution, 2-D.
    ("conv2d_valid_s1", "conv", [2, 6, 5, 3], [3, 3, 3, 4], dict(padding="valid")),
    ("conv2d_same_s2_odd_input", "conv", [1, 7, 7, 2], [3, 3, 2, 3], dict(strides=2, padding="same")),
    ("conv2d_same_s2_even_input", "conv", [2, 6, 8, 3], [3, 2, 3, 4], dict(strides=2, padding="same")),
    ("conv2d_same_d2", "conv", [1, 7, 6, 2], [3, 3, 2, 3], dict(padding="same", dilation_rate=2)),
    ("conv2d_valid_s1x2_d2x1", "conv", [2, 7, 8, 2], [2, 3, 2, 3], dict(strides=1, padding="valid", dilation_rate=(2, 1))),
    ("conv2d_valid_s2x1", "conv", [1, 7, 6, 3], [3, 2, 3, 2], dict(strides=(2, 1), padding="valid")),
    ("conv2d_groups2_same", "conv", [2, 6, 6, 4], [3, 3, 2, 6], dict(padding="same")),
    ("conv2d_groups2_valid_s2", "conv", [1, 7, 8, 4], [3, 3, 2, 4], dict(strides=2, padding="valid")),
    ("conv2d_groups3_d2_same", "conv", [1, 6, 7, 6], [2, 3, 2, 3], dict(padding="same", dilation_rate=2)),
    ("conv2d_pointwise", "conv", [2, 4, 5, 6], [1, 1, 6, 3], dict(padding="valid")),
    ("conv2d_pointwise_groups2", "conv", [2, 3, 4, 4], [1, 1, 2, 6], dict(padding="same")),
    ("conv2d_pointwise_s2", "conv", [1, 5, 6, 3], [1, 1, 3, 2], dict(strides=2, padding="valid")),
    # Convolution, 3-D.
    ("conv3d_valid_s1", "conv", [1, 4, 5, 4, 2], [2, 3, 2, 2, 3], dict(padding="valid")),
    ("conv3d_same_s2", "conv", [2, 5, 4, 5, 2], [3, 3, 3, 2, 2], dict(strides=2, padding="same")),
    ("conv3d_same_d2", "conv", [1, 5, 5, 4, 2], [2, 2, 2, 2, 2], dict(padding="same", dilation_rate=2)),
    # Depthwise convolution.
    ("depthwise1d_same_m2", "depthwise", [2, 9, 3], [3, 3, 2], dict(padding="same")),
    ("depthwise1d_valid_s2_d2", "depthwise", [1, 12, 2], [3, 2, 1], dict(strides=2, padding="valid", dilation_rate=2)),
    ("depthwise2d_same_m2", "depthwise", [2, 6, 5, 3], [3, 3, 3, 2], dict(padding="same")),
    ("depthwise2d_valid_s2", "depthwise", [1, 7, 7, 2], [3, 3, 2, 1], dict(strides=2, padding="valid")),
    ("depthwise2d_same_s2_even_input", "depthwise", [1, 6, 8, 2], [3, 2, 2, 3], dict(strides=2, padding="same")),
    ("depthwise2d_same_d2", "depthwise", [1, 7, 6, 2], [3, 3, 2, 2], dict(padding="same", dilation_rate=2)),
    # Transposed convolution (kernel [spatial..., out, in]).
    ("conv1d_transpose_same_s2", "conv_transpose", [2, 5, 3], [3, 2, 3], dict(strides=2, padding="same")),
    ("conv1d_transpose_valid_s3_k2", "conv_transpose", [1, 4, 2], [2, 3, 2], dict(strides=3, padding="valid")),
    ("conv2d_transpose_valid_s2", "conv_transpose", [1, 4, 3, 3], [3, 3, 2, 3], dict(strides=2, padding="valid")),
    ("conv2d_transpose_same_s2", "conv_transpose", [2, 3, 4, 2], [3, 3, 3, 2], dict(strides=2, padding="same")),
    ("conv2d_transpose_same_s2_outpad1", "conv_transpose", [1, 3, 3, 2], [3, 3, 2, 2],
     dict(strides=2, padding="same", output_padding=1)),
    ("conv2d_transpose_valid_s2_outpad1", "conv_transpose", [1, 3, 4, 2], [2, 3, 3, 2],
     dict(strides=2, padding="valid", output_padding=1)),
    ("conv3d_transpose_same_s2", "conv_transpose", [1, 3, 3, 2, 2], [2, 3, 3, 3, 2], dict(strides=2, padding="same")),
    ("conv3d_transpose_valid_s1x2x2", "conv_transpose", [1, 2, 3, 3, 2], [2, 2, 3, 2, 2],
     dict(strides=(1, 2, 2), padding="valid")),
    # Pooling (overlapping windows where strides < pool size).
    ("max_pool1d_valid_p3_s2", "max_pool", [2, 9, 3], None, dict(pool_size=3, strides=2, padding="valid")),
    ("max_pool1d_same_p2", "max_pool", [1, 7, 2], None, dict(pool_size=2, padding="same")),
    ("avg_pool1d_same_p3_s2", "average_pool", [2, 8, 3], None, dict(pool_size=3, strides=2, padding="same")),
    ("avg_pool1d_valid_p2", "average_pool", [1, 7, 2], None, dict(pool_size=2, padding="valid")),
    ("max_pool2d_valid_p2", "max_pool", [2, 6, 7, 3], None, dict(pool_size=2, padding="valid")),
    ("max_pool2d_same_p3_s2_odd_input", "max_pool", [1, 7, 7, 2], None, dict(pool_size=3, strides=2, padding="same")),
    ("max_pool2d_same_p3_s2_even_input", "max_pool", [2, 6, 8, 2], None, dict(pool_size=3, strides=2, padding="same")),
    ("max_pool2d_same_p2x3_s1", "max_pool", [1, 5, 6, 2], None, dict(pool_size=(2, 3), strides=1, padding="same")),
    ("max_pool2d_ties_p3_s1", "max_pool", [1, 5, 5, 2], None, dict(pool_size=3, strides=1, padding="valid")),
    ("avg_pool2d_same_p3_s2_odd_input", "average_pool", [1, 7, 7, 2], None,
     dict(pool_size=3, strides=2, padding="same")),
    ("avg_pool2d_same_p3_s2_even_input", "average_pool", [2, 6, 8, 2], None,
     dict(pool_size=3, strides=2, padding="same")),
    ("avg_pool2d_valid_p3_s1", "average_pool", [1, 5, 6, 3], None, dict(pool_size=3, strides=1, padding="valid")),
    ("max_pool3d_valid_p2", "max_pool", [1, 4, 5, 4, 2], None, dict(pool_size=2, padding="valid")),
    ("max_pool3d_same_p3_s2", "max_pool", [1, 5, 4, 5, 2], None, dict(pool_size=3, strides=2, padding="same")),
    ("avg_pool3d_same_p3_s2", "average_pool", [2, 5, 4, 5, 2], None, dict(pool_size=3, strides=2, padding="same")),
    ("avg_pool3d_valid_p2_s1", "average_pool", [1, 3, 4, 3, 2], None, dict(pool_size=2, strides=1, padding="valid")),
    # One group per input channel (ConvNeXt's 7x7 Conv2D(groups=channels)): runs as a depthwise convolution.
    ("conv2d_groups_per_channel_7x7_same", "conv", [2, 9, 9, 4], [7, 7, 1, 4], dict(padding="same")),
    ("conv2d_groups_per_channel_m2_valid_s2", "conv", [1, 7, 8, 3], [3, 3, 1, 6], dict(strides=2, padding="valid")),
    ("conv1d_groups_per_channel_same_d2", "conv", [2, 9, 3], [3, 1, 3], dict(padding="same", dilation_rate=2)),
]


def run(op, x, k, args):
    if op == "conv":
        if args.get("padding") == "causal":
            # Keras Conv1D pads dilation * (kernel - 1) zeros on the left, then runs a valid conv.
            d = args.get("dilation_rate", 1)
            x = ops.pad(x, [[0, 0], [d * (k.shape[0] - 1), 0], [0, 0]])
            args = dict(args, padding="valid")
        return ops.conv(x, k, **args)
    if op == "depthwise":
        return ops.depthwise_conv(x, k, **args)
    if op == "conv_transpose":
        return ops.conv_transpose(x, k, **args)
    if op == "max_pool":
        return ops.max_pool(x, **args)
    if op == "average_pool":
        return ops.average_pool(x, **args)
    raise ValueError(op)


def as_list(v, rank):
    return list(v) if isinstance(v, (tuple, list)) else [v] * rank


def manifest_entry(op, x_shape, args):
    rank = len(x_shape) - 2
    entry = {"op": op, "padding": args.get("padding", "valid")}
    if op in ("max_pool", "average_pool"):
        entry["pool_size"] = as_list(args["pool_size"], rank)
        entry["strides"] = as_list(args.get("strides") or args["pool_size"], rank)
    else:
        entry["strides"] = as_list(args.get("strides", 1), rank)
        entry["dilation"] = as_list(args.get("dilation_rate", 1), rank)
    if "output_padding" in args:
        entry["output_padding"] = as_list(args["output_padding"], rank)
    return entry


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.npy"):
        old.unlink()
    manifest = {}
    for index, (name, op, x_shape, k_shape, args) in enumerate(CASES):
        rng = np.random.RandomState(1000 + index)
        if "ties" in name:
            # Small integers: many windows hold several equal maxima.
            x = rng.randint(0, 3, size=x_shape).astype(np.float32)
        else:
            x = rng.uniform(-1, 1, size=x_shape).astype(np.float32)
        k = None if k_shape is None else rng.uniform(-1, 1, size=k_shape).astype(np.float32)
        xv = tf.Variable(x)
        kv = None if k is None else tf.Variable(k)
        with tf.GradientTape() as tape:
            y = run(op, xv, kv, args)
            proj = rng.uniform(-1, 1, size=tuple(y.shape)).astype(np.float32)
            objective = tf.reduce_sum(y * proj)
        grads = tape.gradient(objective, [xv] if kv is None else [xv, kv])
        arrays = {"x": x, "y": np.asarray(y), "proj": proj, "dx": np.asarray(grads[0])}
        if kv is not None:
            arrays["k"] = k
            arrays["dk"] = np.asarray(grads[1])
        for suffix, array in arrays.items():
            np.save(OUT / f"{name}_{suffix}.npy", np.ascontiguousarray(array, dtype=np.float32))
        manifest[name] = manifest_entry(op, x_shape, args)
    lines = [f"  {json.dumps(name)}: {json.dumps(manifest[name], sort_keys=True)}" for name in sorted(manifest)]
    (OUT / "cases.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")
    (OUT / "VERSIONS.txt").write_text(
        f"tensorflow {tf.__version__}\nkeras {keras.__version__}\nnumpy {np.__version__}\n"
        "written by tools/gen_conv_fixtures.py (Keras ops, TensorFlow backend, tf.GradientTape)\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(CASES)} cases to {OUT} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
