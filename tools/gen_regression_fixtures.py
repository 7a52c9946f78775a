"""Fixtures for RegressionModelTests: small models that real Keras writes and
that the model sweep (tools/sweep_keras_models.py) found the loader failing
on, each saved by Keras 3 (`.keras` and `.h5`) and/or tf-keras (`.h5`) with
an input and Keras's prediction, into Tests/KerasIOTests/Fixtures/regressions/:
<case>.<ext>, <case>.in<i>.npy, <case>.out<j>.npy, <case>.json (writer
version, file, counts).

- attention: `Attention` (dot with scale, concat, causal, returned scores,
  masked by an Embedding), `AdditiveAttention`, `MultiHeadAttention` (self,
  cross with key, value_dim, output_shape, no bias, causal, an
  `attention_mask` input, attention_axes, returned scores, Embedding masks).
- recurrent: initial states passed as `initial_state` (Keras 3 records a
  tensor keyword argument; tf-keras extra inputs), and masks from `Masking`
  and `Embedding(mask_zero=True)`, whose computations a Keras 3 `.h5`
  records as op nodes without a module.
- ops: Keras 3 ops / tf functions on symbolic tensors beyond the first set of
  gen_operation_fixtures.py (prod, var, std, argmax, log, clip, stack,
  matmul, split, softmax over an axis, cumsum, where, comparisons, …).

Run: .venv/bin/python tools/gen_regression_fixtures.py
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras import ops
import tensorflow as tf
import tf_keras

import gen_operation_fixtures

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/regressions"
TOKENS = np.array([[1, 2, 3, 0, 0], [4, 4, 1, 1, 2]], "float32")


def randomize(model, rng):
    """Every float weight gets a non-trivial value (zeros become small random numbers)."""
    for w in model.weights:
        old = np.asarray(w)
        value = rng.uniform(-0.2, 0.2, old.shape) if not np.any(old) else old * rng.uniform(0.5, 1.5, old.shape)
        w.assign(value.astype(np.float32))


def attention_model(k):
    L = k.layers
    q, v = k.Input((4, 6), name="q"), k.Input((5, 6), name="v")
    m = k.Input((4, 5), name="m")
    t = k.Input((5,), name="t")
    e = L.Embedding(10, 6, mask_zero=True, name="embedding")(t)
    # A masked key: its mask joins the attention mask. (Keras 3's MultiHeadAttention
    # clears the masks of the tensors it reads, so the key gets its own embedding.)
    key = L.Embedding(10, 6, mask_zero=True, name="embedding_key")(t)
    a_scores = L.Attention(use_scale=True, name="attention")([q, v], return_attention_scores=True)
    outputs = [
        *a_scores,
        L.Attention(score_mode="concat", name="attention_concat")([v, v, v], use_causal_mask=True),
        L.GlobalAveragePooling1D(name="masked_pool")(L.Attention(name="attention_masked")([e, e])),
        L.AdditiveAttention(name="additive")([q, v]),
        L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha_self")(v, v),
        L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_shape=(4,), use_bias=False, name="mha_cross")(q, v, key),
        L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha_causal")(v, v, use_causal_mask=True),
        L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha_mask")(q, v, attention_mask=m),
        *L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha_scores")(q, v, return_attention_scores=True),
        L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha_embedding")(e, e),
    ]
    x4 = k.Input((3, 4, 6), name="x4")
    outputs.append(L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(2,), name="mha_axes")(x4, x4))
    return k.Model([q, v, m, t, x4], outputs)


def attention_inputs(rng):
    mask = (rng.uniform(size=(2, 4, 5)) > 0.4).astype("float32")
    mask[:, :, 0] = 1
    return [rng.uniform(-1, 1, (2, 4, 6)).astype("float32"), rng.uniform(-1, 1, (2, 5, 6)).astype("float32"), mask,
            TOKENS, rng.uniform(-1, 1, (2, 3, 4, 6)).astype("float32")]


def recurrent_model(k):
    L = k.layers
    a, b, t = k.Input((5, 3), name="a"), k.Input((4, 2), name="b"), k.Input((5,), name="t")
    _, h, c = L.LSTM(4, return_state=True, name="encoder")(a)
    decoded = L.LSTM(4, return_sequences=True, name="decoder")(b, initial_state=[h, c])
    _, g = L.GRU(3, return_state=True, name="gru_state")(a)
    gru = L.GRU(3, reset_after=False, name="gru_initial")(a, initial_state=[g])
    masked = L.GRU(3, name="masked_gru")(L.Masking(0.0, name="masking")(a))
    embedded = L.LSTM(3, name="embedded_lstm")(L.Embedding(10, 4, mask_zero=True, name="embedding")(t))
    return k.Model([a, b, t], [decoded, gru, masked, embedded])


def recurrent_inputs(rng):
    a = rng.uniform(-1, 1, (2, 5, 3)).astype("float32")
    a[0, 3:] = 0  # masked steps
    return [a, rng.uniform(-1, 1, (2, 4, 2)).astype("float32"), TOKENS]


def keras3_ops_model():
    x, y = keras.Input((3, 4), name="x"), keras.Input((3, 4), name="y")
    h = keras.layers.Dense(4, name="dense")(x)
    outputs = [
        ops.prod(h, axis=1), ops.var(h, axis=-1), ops.std(h, axis=1, keepdims=True), ops.argmax(h, axis=-1),
        ops.argmin(h, axis=1), ops.log(y), ops.log1p(y), ops.expm1(h), ops.clip(h, -0.3, 0.5), ops.stack([h, y], axis=1),
        ops.matmul(h, ops.transpose(y, (0, 2, 1))), *ops.split(h, 2, axis=-1), ops.split(h, [1, 3], axis=-1)[1],
        ops.softmax(h, axis=1), ops.log_softmax(h, axis=-1), ops.cumsum(h, axis=1), ops.norm(h, axis=-1),
        ops.normalize(h, axis=-1), ops.einsum("bij,bkj->bik", h, y), ops.repeat(ops.tile(h, (1, 2, 1)), 2, axis=-1),
        ops.reciprocal(y), ops.floor(h * 3.0), ops.round(h * 2.0), ops.sign(h), ops.cast(ops.greater(h, 0.0), "float32"),
        ops.logsumexp(h, axis=-1), ops.flip(h, axis=1), ops.swapaxes(h, 1, 2), ops.erf(h),
        ops.where(h > 0, h, 0.1 * h), ops.maximum(h, 0.2), ops.mean(h), 1.0 / y, ops.max(h, axis=1, keepdims=True),
        ops.nn.gelu(h), ops.nn.leaky_relu(h, 0.1),
    ]
    return keras.Model([x, y], outputs)


def keras2_ops_model():
    k = tf_keras
    x, y = k.Input((3, 4), name="x"), k.Input((3, 4), name="y")
    h = k.layers.Dense(4, name="dense")(x)
    outputs = [
        tf.reduce_prod(h, axis=1), tf.math.reduce_variance(h, axis=-1), tf.math.reduce_std(h, axis=1, keepdims=True),
        tf.cast(tf.argmax(h, axis=-1), "float32"), tf.math.log(y), tf.clip_by_value(h, -0.3, 0.5), tf.stack([h, y], axis=1),
        tf.matmul(h, y, transpose_b=True), tf.split(h, 2, axis=-1)[1], tf.split(h, [1, 3], axis=-1)[1], tf.nn.softmax(h, axis=1),
        tf.math.l2_normalize(h, axis=-1), tf.cumsum(h, axis=1), tf.tile(h, (1, 2, 1)), tf.where(h > 0, h, 0.1 * h),
        tf.maximum(h, 0.2), 1.0 - h, tf.reduce_logsumexp(h, axis=-1), tf.nn.gelu(h), tf.exp(-h), tf.reduce_sum(h),
    ]
    return k.Model([x, y], outputs)


def save(name, model, ext, inputs, version):
    gen_operation_fixtures.save(name, model, ext, inputs, version, out=OUT)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        f.unlink()
    rng = np.random.default_rng(11)
    for family, build, make_inputs, seed in (("attention", attention_model, attention_inputs, 11),
                                             ("recurrent", recurrent_model, recurrent_inputs, 12)):
        for k, tag in ((keras, "keras3"), (tf_keras, "keras2")):
            k.utils.set_random_seed(seed)
            model = build(k)
            randomize(model, rng)
            inputs = make_inputs(rng)
            if tag == "keras3":
                save(f"{family}_keras3", model, "keras", inputs, keras.__version__)
                save(f"{family}_keras3_h5", model, "h5", inputs, keras.__version__)
            else:
                save(f"{family}_keras2", model, "h5", inputs, tf_keras.__version__)
    pair = [rng.uniform(-1, 1, (2, 3, 4)).astype(np.float32), rng.uniform(0.5, 2, (2, 3, 4)).astype(np.float32)]
    m3 = keras3_ops_model()
    save("ops_keras3", m3, "keras", pair, keras.__version__)
    save("ops_keras3_h5", m3, "h5", pair, keras.__version__)
    save("ops_keras2", keras2_ops_model(), "h5", pair, tf_keras.__version__)


if __name__ == "__main__":
    main()
