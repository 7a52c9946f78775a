"""Golden fixtures for Embedding, Masking and EinsumDense.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_embedding.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "embedding"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(8)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    ids = lambda n, *s: rng.integers(0, n, size=s).astype(np.int32)
    L, L2 = keras.layers, tf_keras.layers

    save_case(FAMILY, "embedding", L.Embedding(10, 3), [ids(10, 2, 4)], rng)
    save_case(FAMILY, "embedding_mask_zero_rank1", L.Embedding(5, 2, mask_zero=True), [ids(5, 6)], rng)
    save_case(FAMILY, "embedding_regularized", L.Embedding(6, 4, embeddings_regularizer="l2"), [ids(6, 2, 2, 3)], rng)
    save_case(FAMILY, "embedding_keras2", L2.Embedding(7, 3), [ids(7, 3, 2)], rng)

    masked = x(2, 5, 3)
    masked[0, 1] = 0.0
    masked[1, 3] = 0.0
    masked[1, 4, 0] = 0.0  # a partly masked step is kept
    save_case(FAMILY, "masking", L.Masking(), [masked], rng)
    steps = x(3, 4, 2)
    steps[2, 0] = 1.5
    save_case(FAMILY, "masking_value", L.Masking(mask_value=1.5), [steps], rng)
    save_case(FAMILY, "masking_keras2", L2.Masking(), [masked.copy()], rng)

    save_case(FAMILY, "einsum_dense", L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c"), [x(3, 5)], rng)
    save_case(FAMILY, "einsum_dense_sequence", L.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d",
                                                               activation="relu"), [x(2, 3, 5)], rng)
    save_case(FAMILY, "einsum_dense_heads", L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"),
              [x(2, 3, 4)], rng)
    save_case(FAMILY, "einsum_dense_rank4", L.EinsumDense("abcd,de->abce", output_shape=(None, None, 3)), [x(2, 2, 3, 4)], rng)
    save_case(FAMILY, "einsum_dense_bias_middle", L.EinsumDense("abc,cd->abd", output_shape=(3, 2), bias_axes="b"),
              [x(2, 3, 4)], rng)
    save_case(FAMILY, "einsum_dense_attention_output", L.EinsumDense("abcd,cde->abe", output_shape=(None, 5), bias_axes="e"),
              [x(2, 3, 2, 4)], rng)
    save_case(FAMILY, "einsum_dense_left_ellipsis", L.EinsumDense("...b,bc->...c", output_shape=4, bias_axes="c"),
              [x(2, 3, 5)], rng)
    save_case(FAMILY, "einsum_dense_right_ellipsis", L.EinsumDense("ab...,bc->ac...", output_shape=3, bias_axes="c"),
              [x(2, 4, 3, 2)], rng)
    save_case(FAMILY, "einsum_dense_keras2", L2.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d",
                                                              activation="tanh"), [x(2, 3, 4)], rng)


if __name__ == "__main__":
    main()
