"""Golden fixtures for the normalization layers: BatchNormalization (inference
and training), LayerNormalization, RMSNormalization, GroupNormalization,
UnitNormalization.

Training cases also record the weights after the training call as
`<case>.post<k>.npy`, so the tests can check the moving statistics.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_normalization.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import ROOT, clean, save_case

FAMILY = "normalization"


def save_training_case(name, layer, inputs, rng):
    """A training-mode case plus the weights after its single training call."""
    save_case(FAMILY, name, layer, inputs, rng, training=True)
    for k, w in enumerate(layer.get_weights()):
        np.save(ROOT / FAMILY / f"{name}.post{k}.npy", np.asarray(w, np.float32))


def main():
    clean(FAMILY)
    rng = np.random.default_rng(5)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, L2 = keras.layers, tf_keras.layers

    save_case(FAMILY, "batch_norm", L.BatchNormalization(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "batch_norm_axis1", L.BatchNormalization(axis=1), [x(2, 3, 4, 2)], rng)
    save_case(FAMILY, "batch_norm_axis_minus2", L.BatchNormalization(axis=-2, epsilon=0.01), [x(2, 3, 4)], rng)
    save_case(FAMILY, "batch_norm_no_center", L.BatchNormalization(center=False), [x(3, 4)], rng)
    save_case(FAMILY, "batch_norm_no_scale_no_center", L.BatchNormalization(center=False, scale=False), [x(3, 4)], rng)
    save_case(FAMILY, "batch_norm_regularized", L.BatchNormalization(gamma_regularizer="l2", beta_regularizer="l1"),
              [x(3, 4)], rng)
    save_case(FAMILY, "batch_norm_keras2", L2.BatchNormalization(), [x(2, 2, 3, 4)], rng)
    save_training_case("batch_norm_train", L.BatchNormalization(momentum=0.9), [x(5, 3)], rng)
    save_training_case("batch_norm_train_axis1", L.BatchNormalization(axis=1), [x(3, 2, 4, 3)], rng)
    save_training_case("batch_norm_train_axis_minus2", L.BatchNormalization(axis=-2, momentum=0.5), [x(3, 4, 2)], rng)
    save_training_case("batch_norm_train_no_affine", L.BatchNormalization(center=False, scale=False), [x(4, 3)], rng)
    frozen = L.BatchNormalization()
    frozen.trainable = False
    save_training_case("batch_norm_train_frozen", frozen, [x(4, 3)], rng)
    save_training_case("batch_norm_train_keras2_fused", L2.BatchNormalization(momentum=0.8), [x(2, 3, 2, 4)], rng)
    save_training_case("batch_norm_train_keras2_fused_axis1", L2.BatchNormalization(axis=1), [x(2, 3, 2, 4)], rng)
    save_training_case("batch_norm_train_keras2", L2.BatchNormalization(momentum=0.7), [x(6, 3)], rng)

    save_case(FAMILY, "layer_norm", L.LayerNormalization(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "layer_norm_two_axes", L.LayerNormalization(axis=[1, 2], epsilon=1e-5), [x(2, 3, 4)], rng)
    save_case(FAMILY, "layer_norm_unsorted_axes", L.LayerNormalization(axis=[-1, 1]), [x(2, 3, 2, 4)], rng)
    save_case(FAMILY, "layer_norm_middle_axis", L.LayerNormalization(axis=1, center=False), [x(2, 3, 4)], rng)
    save_case(FAMILY, "layer_norm_no_scale", L.LayerNormalization(scale=False), [x(3, 5)], rng)
    save_case(FAMILY, "layer_norm_rms_scaling", L.LayerNormalization(rms_scaling=True), [x(2, 3, 4)], rng)
    save_case(FAMILY, "layer_norm_keras2", L2.LayerNormalization(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "layer_norm_keras2_two_axes", L2.LayerNormalization(axis=[1, 2], epsilon=1e-6), [x(2, 3, 4)], rng)
    save_case(FAMILY, "rms_norm", L.RMSNormalization(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "rms_norm_two_axes", L.RMSNormalization(axis=[1, 2], epsilon=1e-3), [x(2, 3, 4)], rng)

    save_case(FAMILY, "group_norm", L.GroupNormalization(groups=2), [x(2, 3, 4)], rng)
    save_case(FAMILY, "group_norm_instance", L.GroupNormalization(groups=-1), [x(2, 3, 4)], rng)
    save_case(FAMILY, "group_norm_one_group_rank4", L.GroupNormalization(groups=1), [x(2, 2, 3, 4)], rng)
    save_case(FAMILY, "group_norm_axis1", L.GroupNormalization(groups=3, axis=1, center=False), [x(2, 6, 2)], rng)
    save_case(FAMILY, "group_norm_keras2", L2.GroupNormalization(groups=2, epsilon=0.01), [x(2, 2, 4)], rng)

    save_case(FAMILY, "unit_norm", L.UnitNormalization(), [x(2, 3, 4)], rng)
    save_case(FAMILY, "unit_norm_two_axes", L.UnitNormalization(axis=[1, 2]), [x(2, 3, 4)], rng)
    save_case(FAMILY, "unit_norm_keras2", L2.UnitNormalization(axis=1), [x(2, 3, 4)], rng)


if __name__ == "__main__":
    main()
