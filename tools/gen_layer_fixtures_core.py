"""Golden fixtures for core layers: Dense, Activation.

Run: .venv/bin/python tools/gen_layer_fixtures_core.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "core"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(1)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L = keras.layers
    save_case(FAMILY, "dense_relu", L.Dense(4, activation="relu", name="d1"), [x(3, 5)], rng)
    save_case(FAMILY, "dense_rank3_no_bias", L.Dense(3, use_bias=False, activation="tanh"), [x(2, 4, 5)], rng)
    save_case(FAMILY, "dense_keras2_hard_sigmoid", tf_keras.layers.Dense(3, activation="hard_sigmoid"), [x(4, 2)], rng)
    save_case(FAMILY, "dense_keras3_hard_sigmoid", L.Dense(3, activation="hard_sigmoid"), [x(4, 2)], rng)
    save_case(FAMILY, "dense_regularized", L.Dense(2, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1),
                                                     activity_regularizer="l1", kernel_constraint="max_norm"), [x(3, 4)], rng)
    for act in ["relu", "gelu", "softmax", "selu", "swish", "hard_silu", "log_softmax", "mish"]:
        save_case(FAMILY, f"activation_{act}", L.Activation(act), [x(2, 3, 4)], rng)


if __name__ == "__main__":
    main()
