"""Golden fixtures for the activation layers: ReLU, LeakyReLU, PReLU, ELU,
Softmax, and tf-keras's ThresholdedReLU.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_activations.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "activations"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(3)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, L2 = keras.layers, tf_keras.layers
    save_case(FAMILY, "relu", L.ReLU(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "relu_max6", L.ReLU(max_value=6.0), [x(3, 5) * 4], rng)
    save_case(FAMILY, "relu_all_options", L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5), [x(2, 3, 4)], rng)
    save_case(FAMILY, "relu_threshold", L.ReLU(threshold=0.3), [x(4, 5)], rng)
    save_case(FAMILY, "leaky_relu", L.LeakyReLU(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "leaky_relu_slope", L.LeakyReLU(negative_slope=0.05), [x(3, 4)], rng)
    save_case(FAMILY, "leaky_relu_keras2_default", L2.LeakyReLU(), [x(3, 4)], rng)
    save_case(FAMILY, "leaky_relu_keras2_alpha", L2.LeakyReLU(alpha=0.2), [x(2, 5)], rng)
    save_case(FAMILY, "prelu", L.PReLU(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "prelu_shared_axes", L.PReLU(shared_axes=[1, 2]), [x(2, 3, 4, 5)], rng)
    save_case(FAMILY, "prelu_regularized", L.PReLU(alpha_regularizer="l2", alpha_initializer="ones"), [x(3, 4)], rng)
    save_case(FAMILY, "prelu_keras2", L2.PReLU(shared_axes=[1]), [x(2, 3, 4)], rng)
    save_case(FAMILY, "elu", L.ELU(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "elu_alpha", L.ELU(alpha=0.5), [x(3, 4)], rng)
    save_case(FAMILY, "elu_keras2", L2.ELU(alpha=0.7), [x(3, 4)], rng)
    save_case(FAMILY, "softmax", L.Softmax(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "softmax_axis1", L.Softmax(axis=1), [x(2, 3, 4)], rng)
    save_case(FAMILY, "softmax_two_axes", L.Softmax(axis=[1, 2]), [x(2, 3, 4)], rng)
    save_case(FAMILY, "softmax_keras2", L2.Softmax(axis=-2), [x(2, 3, 4)], rng)
    save_case(FAMILY, "thresholded_relu_keras2", L2.ThresholdedReLU(theta=0.5), [x(3, 4)], rng)


if __name__ == "__main__":
    main()
