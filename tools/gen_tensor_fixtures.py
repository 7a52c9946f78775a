"""Writes the op fixtures of Tests/TensorTests: inputs, TensorFlow/Keras outputs,
and TensorFlow gradients of sum(output * projection) for every op case.

Run: .venv/bin/python tools/gen_tensor_fixtures.py   (or `make fixtures`)

Files: Tests/TensorTests/Fixtures/ops/<case>.in<i>.npy, .out.npy, .proj.npy,
.grad<i>.npy (zeros where TensorFlow has no gradient). The Swift test
(OpFixtureTests.swift) maps each case name to the same op.
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras
import tf_keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/TensorTests/Fixtures/ops"
rng = np.random.default_rng(20261127)


def r(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def away_from_zero(*shape):
    """Values in ±[0.2, 2]: keeps abs/relu/sign gradients off their kinks."""
    v = r(*shape, lo=0.2, hi=2.0)
    return v * np.where(rng.uniform(size=shape) < 0.5, -1, 1).astype(np.float32)


A = keras.activations
CASES = {
    # Elementwise arithmetic with broadcasting.
    "add_same": (lambda a, b: a + b, [r(2, 3), r(2, 3)]),
    "add_broadcast": (lambda a, b: a + b, [r(2, 3, 4), r(3, 1)]),
    "add_broadcast_both": (lambda a, b: a + b, [r(4, 1, 3), r(1, 5, 1)]),
    "subtract_broadcast": (lambda a, b: a - b, [r(2, 1, 4), r(3, 4)]),
    "multiply_broadcast": (lambda a, b: a * b, [r(2, 3, 4), r(4)]),
    "multiply_scalar_tensor": (lambda a, b: a * b, [r(3, 2), r()]),
    "divide_broadcast": (lambda a, b: a / b, [r(2, 3, 4), r(3, 1, lo=0.5, hi=2.0)]),
    "pow_tensor": (lambda a, b: tf.pow(a, b), [r(2, 3, lo=0.5, hi=2.0), r(3, lo=-1.5, hi=1.5)]),
    "maximum_broadcast": (lambda a, b: tf.maximum(a, b), [r(3, 4), r(4)]),
    "minimum_broadcast": (lambda a, b: tf.minimum(a, b), [r(3, 4), r(3, 1)]),
    # Condition: element i of the flattened [3, 4] grid is true when i % 3 == 0.
    "where_broadcast": (lambda a, b: tf.where(tf.constant(np.arange(12).reshape(3, 4) % 3 == 0), a, b), [r(3, 4), r(4)]),
    # Elementwise math.
    "negative": (lambda a: -a, [r(5)]),
    "exp": (tf.exp, [r(2, 3)]),
    "log": (tf.math.log, [r(2, 3, lo=0.1, hi=3.0)]),
    "sqrt": (tf.sqrt, [r(2, 3, lo=0.1, hi=3.0)]),
    "rsqrt": (tf.math.rsqrt, [r(2, 3, lo=0.1, hi=3.0)]),
    "square": (tf.square, [r(2, 3)]),
    "abs": (tf.abs, [away_from_zero(2, 3)]),
    "sign": (tf.sign, [np.array([-2.0, -0.0, 0.0, 0.5, 3.0], np.float32)]),
    "round_half_to_even": (tf.round, [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, 1.51, -0.51], np.float32)]),
    "pow_scalar": (lambda a: tf.pow(a, 2.5), [r(2, 3, lo=0.1, hi=2.0)]),
    "clip": (lambda a: tf.clip_by_value(a, -0.5, 0.7), [r(3, 4)]),
    # Keras activations (Keras 3 unless named keras2).
    "relu": (A.relu, [away_from_zero(3, 4)]),
    "relu_negative_slope": (lambda a: A.relu(a, negative_slope=0.1), [away_from_zero(3, 4)]),
    "relu_max_value": (lambda a: A.relu(a, max_value=1.0), [away_from_zero(3, 4)]),
    "relu_threshold": (lambda a: A.relu(a, threshold=0.5), [away_from_zero(3, 4)]),
    "relu_all_options": (lambda a: A.relu(a, negative_slope=0.2, max_value=1.5, threshold=0.3), [r(4, 5, lo=-3, hi=3)]),
    "relu6": (A.relu6, [r(3, 4, lo=-3, hi=8)]),
    "leaky_relu": (A.leaky_relu, [away_from_zero(3, 4)]),
    "elu": (A.elu, [away_from_zero(3, 4)]),
    "elu_alpha": (lambda a: A.elu(a, alpha=0.5), [away_from_zero(3, 4)]),
    "selu": (A.selu, [away_from_zero(3, 4)]),
    "softplus": (A.softplus, [np.concatenate([r(6, lo=-4, hi=4), np.array([-20.0, 20.0], np.float32)])]),
    "softsign": (A.softsign, [r(3, 4)]),
    "sigmoid": (A.sigmoid, [r(3, 4, lo=-6, hi=6)]),
    "tanh": (A.tanh, [r(3, 4)]),
    "exponential": (A.exponential, [r(3, 4)]),
    "mish": (A.mish, [r(3, 4, lo=-4, hi=4)]),
    "swish": (A.swish, [r(3, 4, lo=-4, hi=4)]),
    "gelu": (A.gelu, [r(3, 4, lo=-4, hi=4)]),
    "gelu_approximate": (lambda a: A.gelu(a, approximate=True), [r(3, 4, lo=-4, hi=4)]),
    "hard_sigmoid": (A.hard_sigmoid, [r(4, 5, lo=-4, hi=4)]),
    "hard_sigmoid_keras2": (tf_keras.activations.hard_sigmoid, [r(4, 5, lo=-4, hi=4)]),
    "hard_silu": (A.hard_silu, [r(4, 5, lo=-4, hi=4)]),
    "celu": (A.celu, [away_from_zero(3, 4)]),
    "squareplus": (A.squareplus, [r(3, 4)]),
    "soft_shrink": (A.soft_shrink, [r(3, 4)]),
    "hard_shrink": (A.hard_shrink, [r(3, 4)]),
    "sparse_plus": (A.sparse_plus, [r(3, 4)]),
    "sparse_sigmoid": (A.sparse_sigmoid, [r(3, 4)]),
    "tanh_shrink": (A.tanh_shrink, [r(3, 4)]),
    "hard_tanh": (A.hard_tanh, [r(3, 4)]),
    "log_sigmoid": (A.log_sigmoid, [r(3, 4, lo=-6, hi=6)]),
    "glu": (A.glu, [r(3, 6)]),
    "softmax": (A.softmax, [r(3, 5)]),
    "softmax_axis1": (lambda a: A.softmax(a, axis=1), [r(2, 4, 3)]),
    "log_softmax": (A.log_softmax, [r(3, 5)]),
    "log_softmax_axis0": (lambda a: A.log_softmax(a, axis=0), [r(4, 3)]),
    # Reductions.
    "sum_all": (tf.reduce_sum, [r(2, 3, 4)]),
    "sum_axis1_keepdims": (lambda a: tf.reduce_sum(a, axis=1, keepdims=True), [r(2, 3, 4)]),
    "sum_axes_0_2": (lambda a: tf.reduce_sum(a, axis=[0, 2]), [r(2, 3, 4)]),
    "mean_last": (lambda a: tf.reduce_mean(a, axis=-1), [r(2, 3, 4)]),
    "mean_axes_1_2_keepdims": (lambda a: tf.reduce_mean(a, axis=[1, 2], keepdims=True), [r(2, 3, 4, 2)]),
    "max_axis0": (lambda a: tf.reduce_max(a, axis=0), [r(3, 4)]),
    "max_ties": (lambda a: tf.reduce_max(a, axis=1), [np.array([[1, 3, 3], [2, 2, 2]], np.float32)]),
    "min_axes_0_2_keepdims": (lambda a: tf.reduce_min(a, axis=[0, 2], keepdims=True), [r(2, 3, 4)]),
    "variance_axes_0_1": (lambda a: tf.math.reduce_variance(a, axis=[0, 1]), [r(3, 4, 2)]),
    "argmax_axis1": (lambda a: tf.cast(tf.argmax(a, axis=1), tf.float32), [r(3, 5, 2)]),
    # Matmul.
    "matmul_2d": (tf.matmul, [r(3, 4), r(4, 5)]),
    "matmul_batched": (tf.matmul, [r(2, 3, 4), r(2, 4, 5)]),
    "matmul_broadcast_rhs": (tf.matmul, [r(2, 3, 4), r(4, 5)]),
    "matmul_broadcast_batch": (tf.matmul, [r(2, 1, 3, 4), r(3, 4, 2)]),
    "matmul_transpose_a": (lambda a, b: tf.matmul(a, b, transpose_a=True), [r(4, 3), r(4, 5)]),
    "matmul_transpose_b": (lambda a, b: tf.matmul(a, b, transpose_b=True), [r(2, 3, 4), r(2, 5, 4)]),
    "matmul_transpose_both": (lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True), [r(4, 3), r(5, 4)]),
    # Shape ops.
    "reshape": (lambda a: tf.reshape(a, [4, -1]), [r(2, 3, 4)]),
    "transpose": (lambda a: tf.transpose(a, [2, 0, 1]), [r(2, 3, 4)]),
    "transpose_4d": (lambda a: tf.transpose(a, [0, 3, 1, 2]), [r(2, 3, 4, 5)]),
    "broadcast_to": (lambda a: tf.broadcast_to(a, [2, 3, 4]), [r(3, 1)]),
    "concat_axis1": (lambda a, b, c: tf.concat([a, b, c], axis=1), [r(2, 1, 3), r(2, 2, 3), r(2, 3, 3)]),
    "split_axis2": (lambda a: tf.split(a, [1, 3, 2], axis=2)[1] * 2.0 + tf.split(a, [1, 3, 2], axis=2)[0], [r(2, 3, 6)]),
    "slice": (lambda a: tf.slice(a, [1, 0, 2], [2, 3, 2]), [r(3, 4, 5)]),
    "strided_slice": (lambda a: a[::2, 3:0:-1, 1::2], [r(4, 5, 6)]),
    "pad": (lambda a: tf.pad(a, [[1, 0], [0, 2], [2, 1]], constant_values=0.5), [r(2, 3, 2)]),
    "tile": (lambda a: tf.tile(a, [2, 1, 3]), [r(2, 3, 2)]),
    "gather_axis1": (lambda a: tf.gather(a, [3, 0, 3, 1], axis=1), [r(2, 4, 3)]),
    "flip": (lambda a: tf.reverse(a, axis=[0, 2]), [r(2, 3, 4)]),
    "stack_axis1": (lambda a, b: tf.stack([a, b], axis=1), [r(2, 3), r(2, 3)]),
    "expand_squeeze": (lambda a: tf.squeeze(tf.expand_dims(a, 1) * 2.0, axis=[2]), [r(3, 1, 4)]),
}
# Cases added later draw their inputs from their own generator, so the
# earlier cases' files stay as they were.
later = np.random.default_rng(20261128)
CASES.update({
    "sparsemax": (A.sparsemax, [later.uniform(-0.4, 0.4, (3, 6)).astype(np.float32)]),
    "sparsemax_axis0": (lambda a: A.sparsemax(a, axis=0), [later.uniform(-0.5, 0.5, (5, 3)).astype(np.float32)]),
    # The eight-lane erf and exact GELU: both ranges of erf (|x| below and
    # above 0.875), GELU's negative tail, full vectors and a partial one.
    "gelu_wide": (A.gelu, [later.uniform(-7, 7, (5, 37)).astype(np.float32)]),
    "erf": (tf.math.erf, [later.uniform(-5, 5, (4, 19)).astype(np.float32)]),
})


NPY_OUT = OUT.parent / "npy"


def write_npy_fixtures():
    """NumPy's own .npy writer in every form the reader accepts or rejects."""
    NPY_OUT.mkdir(parents=True, exist_ok=True)
    base = np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5 - 2.0
    for dtype in ["float32", "float64", "int32", "int64", "bool", "uint8"]:
        arr = base.astype(dtype) if dtype != "uint8" else np.abs(base).astype(dtype)
        np.save(NPY_OUT / f"{dtype}.npy", arr)
    np.save(NPY_OUT / "bool.npy", base > 0)
    np.save(NPY_OUT / "scalar.npy", np.float32(3.25))
    np.save(NPY_OUT / "big_endian.npy", base.astype(">f4"))
    with open(NPY_OUT / "version2.npy", "wb") as f:
        np.lib.format.write_array(f, base.astype(np.float32), version=(2, 0))
    np.save(NPY_OUT / "fortran.npy", np.asfortranarray(base.astype(np.float32)))
    np.save(NPY_OUT / "complex.npy", base.astype(np.complex64))


def main():
    write_npy_fixtures()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.npy"):
        old.unlink()
    for name, (fn, inputs) in CASES.items():
        xs = [tf.Variable(x) for x in inputs]
        with tf.GradientTape() as tape:
            y = tf.cast(fn(*xs), tf.float32)
        proj = rng.uniform(0.5, 1.5, size=y.shape).astype(np.float32)
        grads = tape.gradient(y, xs, output_gradients=tf.constant(proj))
        for i, x in enumerate(inputs):
            np.save(OUT / f"{name}.in{i}.npy", x)
            g = grads[i]
            g = np.zeros_like(x) if g is None else tf.convert_to_tensor(g).numpy()
            np.save(OUT / f"{name}.grad{i}.npy", g.astype(np.float32))
        np.save(OUT / f"{name}.out.npy", y.numpy().astype(np.float32))
        np.save(OUT / f"{name}.proj.npy", proj)
    (OUT / "VERSIONS.txt").write_text(
        f"tensorflow {tf.__version__}\nkeras {keras.__version__}\ntf_keras {tf_keras.__version__}\nnumpy {np.__version__}\n"
        f"cases {len(CASES)}\n")
    print(f"wrote {len(CASES)} op cases to {OUT}")


if __name__ == "__main__":
    main()
