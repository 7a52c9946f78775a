"""Golden fixtures for the merging layers: Add, Subtract, Multiply, Average,
Maximum, Minimum (with broadcasting and inputs of different ranks),
Concatenate and Dot.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_merging.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "merging"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(7)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, L2 = keras.layers, tf_keras.layers

    save_case(FAMILY, "add", L.Add(), [x(2, 3), x(2, 3)], rng)
    save_case(FAMILY, "add_three", L.Add(), [x(2, 3, 4), x(2, 3, 4), x(2, 3, 4)], rng)
    save_case(FAMILY, "add_broadcast", L.Add(), [x(2, 1, 4), x(2, 3, 4)], rng)
    save_case(FAMILY, "add_ranks", L.Add(), [x(2, 4), x(2, 3, 4)], rng)
    save_case(FAMILY, "subtract", L.Subtract(), [x(2, 3, 4), x(2, 3, 1)], rng)
    save_case(FAMILY, "multiply", L.Multiply(), [x(2, 3), x(2, 3), x(2, 3)], rng)
    save_case(FAMILY, "multiply_broadcast", L.Multiply(), [x(2, 3, 1), x(2, 1, 4)], rng)
    save_case(FAMILY, "average", L.Average(), [x(2, 3), x(2, 3), x(2, 3)], rng)
    save_case(FAMILY, "maximum", L.Maximum(), [x(2, 3, 4), x(2, 3, 4)], rng)
    save_case(FAMILY, "maximum_three", L.Maximum(), [x(3, 2), x(3, 2), x(3, 2)], rng)
    save_case(FAMILY, "minimum", L.Minimum(), [x(2, 3, 4), x(2, 1, 4)], rng)
    save_case(FAMILY, "concatenate", L.Concatenate(), [x(2, 3), x(2, 4)], rng)
    save_case(FAMILY, "concatenate_axis1", L.Concatenate(axis=1), [x(2, 1, 3), x(2, 2, 3), x(2, 3, 3)], rng)
    save_case(FAMILY, "concatenate_axis_minus2_rank4", L.Concatenate(axis=-2), [x(2, 2, 3, 2), x(2, 2, 1, 2)], rng)
    save_case(FAMILY, "concatenate_keras2", L2.Concatenate(axis=1), [x(2, 2), x(2, 3)], rng)
    save_case(FAMILY, "dot_vectors", L.Dot(axes=1), [x(3, 4), x(3, 4)], rng)
    save_case(FAMILY, "dot_matrices", L.Dot(axes=[2, 2]), [x(2, 3, 4), x(2, 5, 4)], rng)
    save_case(FAMILY, "dot_batch_matmul", L.Dot(axes=(2, 1)), [x(2, 3, 4), x(2, 4, 5)], rng)
    save_case(FAMILY, "dot_rank3_with_vector", L.Dot(axes=(1, 1)), [x(2, 3, 4), x(2, 3)], rng)
    save_case(FAMILY, "dot_rank4", L.Dot(axes=(3, 2)), [x(2, 2, 3, 4), x(2, 3, 4, 2)], rng)
    save_case(FAMILY, "dot_normalize", L.Dot(axes=-1, normalize=True), [x(2, 3, 4), x(2, 5, 4)], rng)
    save_case(FAMILY, "dot_keras2_normalize", L2.Dot(axes=1, normalize=True), [x(3, 4), x(3, 4)], rng)


if __name__ == "__main__":
    main()
