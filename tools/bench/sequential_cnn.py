"""Writes a Sequential CNN (conv + BatchNorm + ReLU blocks, 64×64) with
non-trivial weights, for `keras-delta bench fusion` (BENCHMARKS.md):

    .venv/bin/python tools/bench/sequential_cnn.py .fixtures/bench/sequential_cnn.h5
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras

keras.utils.set_random_seed(0)
layers = [keras.Input((64, 64, 3))]
for filters in (32, 64, 64, 128):
    layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False), keras.layers.BatchNormalization(),
               keras.layers.ReLU(), keras.layers.MaxPooling2D(2)]
layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
model = keras.Sequential(layers)
rng = np.random.default_rng(0)
model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in w.path
                   else rng.uniform(-0.2, 0.2, w.shape).astype("float32") for w in model.weights])
model.save(sys.argv[1])
