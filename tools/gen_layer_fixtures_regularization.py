"""Golden fixtures for the regularization layers: Dropout, SpatialDropout1D/2D/3D,
GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization.

The random layers are recorded at inference (the identity); their training
behaviour cannot match TensorFlow's generator and is tested statistically in
Tests/LayersTests/RegularizationLayerTests.swift. A rate of 0 is recorded in
training mode.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_regularization.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "regularization"


class ActivityRegularization(keras.layers.ActivityRegularization):
    """Keras 3's layer returns its input object, which breaks on the tf.Variable
    inputs that `save_case` passes; this copy returns a new tensor (same values)."""

    def call(self, inputs):
        return inputs * 1.0


def main():
    clean(FAMILY)
    rng = np.random.default_rng(4)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, L2 = keras.layers, tf_keras.layers
    save_case(FAMILY, "dropout", L.Dropout(0.5), [x(2, 3, 4)], rng)
    save_case(FAMILY, "dropout_noise_shape_seed", L.Dropout(0.3, noise_shape=(None, 1, 4), seed=7), [x(2, 3, 4)], rng)
    save_case(FAMILY, "dropout_rate0_training", L.Dropout(0.0), [x(3, 4)], rng, training=True)
    save_case(FAMILY, "dropout_keras2", L2.Dropout(0.2, noise_shape=[None, 1], seed=3), [x(3, 4)], rng)
    save_case(FAMILY, "spatial_dropout1d", L.SpatialDropout1D(0.4), [x(2, 3, 4)], rng)
    save_case(FAMILY, "spatial_dropout2d", L.SpatialDropout2D(0.4, seed=1), [x(2, 3, 3, 2)], rng)
    save_case(FAMILY, "spatial_dropout2d_channels_first", L.SpatialDropout2D(0.4, data_format="channels_first"),
              [x(2, 2, 3, 3)], rng)
    save_case(FAMILY, "spatial_dropout3d", L.SpatialDropout3D(0.4), [x(1, 2, 2, 2, 3)], rng)
    save_case(FAMILY, "spatial_dropout2d_keras2", L2.SpatialDropout2D(0.4), [x(2, 3, 3, 2)], rng)
    save_case(FAMILY, "gaussian_noise", L.GaussianNoise(0.3, seed=5), [x(2, 3, 4)], rng)
    save_case(FAMILY, "gaussian_noise_keras2", L2.GaussianNoise(0.3), [x(3, 4)], rng)
    save_case(FAMILY, "gaussian_dropout", L.GaussianDropout(0.2), [x(2, 3, 4)], rng)
    save_case(FAMILY, "gaussian_dropout_keras2", L2.GaussianDropout(0.2), [x(3, 4)], rng)
    save_case(FAMILY, "alpha_dropout", L.AlphaDropout(0.1, noise_shape=(None, 4)), [x(3, 4)], rng)
    save_case(FAMILY, "alpha_dropout_keras2", L2.AlphaDropout(0.1), [x(3, 4)], rng)
    save_case(FAMILY, "activity_regularization", ActivityRegularization(l1=0.01, l2=0.02), [x(4, 3)], rng)
    save_case(FAMILY, "activity_regularization_keras2", L2.ActivityRegularization(l1=0.1), [x(2, 3, 2)], rng)


if __name__ == "__main__":
    main()
