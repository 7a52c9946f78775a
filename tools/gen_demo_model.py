"""Writes models/frame_cnn.h5, the small Keras model `keras-delta demo` starts
from: a per-frame image classifier for the synthetic action set's appearance
mode (32×32 RGB frames in 0–255, 6 classes), compiled with Adam.

Run: .venv/bin/python tools/gen_demo_model.py
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "models" / "frame_cnn.h5"


def main():
    keras.utils.set_random_seed(7)
    L = keras.layers
    x = keras.Input((32, 32, 3), name="frames")
    h = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    h = L.Conv2D(16, 3, padding="same", name="conv1")(h)
    h = L.BatchNormalization(momentum=0.9, name="bn1")(h)
    h = L.ReLU(name="relu1")(h)
    h = L.MaxPooling2D(name="pool1")(h)
    h = L.Conv2D(32, 3, padding="same", name="conv2")(h)
    h = L.BatchNormalization(momentum=0.9, name="bn2")(h)
    h = L.ReLU(name="relu2")(h)
    h = L.MaxPooling2D(name="pool2")(h)
    h = L.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    y = L.Dense(6, activation="softmax", name="classes")(h)
    model = keras.Model(x, y, name="frame_cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    OUT.parent.mkdir(exist_ok=True)
    model.save(OUT)
    print(OUT)


if __name__ == "__main__":
    main()
