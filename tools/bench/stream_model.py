"""A larger per-frame CNN for `keras-delta bench stream`, where the MACs of the
convolutions dominate (the bundled models are 32×32 and ~2 M MACs a frame):
112×112 RGB in 0..255, Rescaling, four Conv2D 3×3 + BatchNormalization + ReLU
blocks (32, 64, 128, 128 filters) with max pooling between them, global
average pooling and a softmax head; 156 M MACs a frame. Seeded random
weights (Glorot kernels, random biases and batch-norm statistics): the
benchmark needs the shapes and realistic activations, not accuracy.

With `--architecture xception` (or efficientnetb0, convnexttiny,
mobilenetv2, resnet50): that keras.applications model (`weights=None`, 6
classes; 71×71 by default for Xception, 128×128 for the others), with the
same random batch-norm statistics. Xception's separable convolutions stream
as depthwise and pointwise steps.

With `--resize-from N` (VGG-style only): frames of N×N that a bilinear
`Resizing` layer brings to the model's size first, as a model that takes
camera frames does.

Run: .venv/bin/python tools/bench/stream_model.py [--architecture vgg|xception|…] [--size 112] [--resize-from 224]
         [-o .fixtures/bench/stream_vgg112.h5]
"""
import argparse
import os

# keras.applications models by --architecture: the class and the default input size.
APPLICATIONS = {"xception": ("Xception", 71), "efficientnetb0": ("EfficientNetB0", 128),
                "convnexttiny": ("ConvNeXtTiny", 128), "mobilenetv2": ("MobileNetV2", 128),
                "resnet50": ("ResNet50", 128)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--architecture", choices=["vgg", *APPLICATIONS], default="vgg")
    p.add_argument("--size", type=int)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--resize-from", type=int, help="VGG-style: frames of this size, resized by the model")
    p.add_argument("-o", "--output", default=".fixtures/bench/stream_vgg112.h5")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import keras
    from keras import layers

    keras.utils.set_random_seed(a.seed)
    if a.architecture in APPLICATIONS:
        cls, size = APPLICATIONS[a.architecture]
        size = a.size or size
        model = getattr(keras.applications, cls)(input_shape=(size, size, 3), weights=None, classes=6)
    else:
        model = vgg(keras, layers, a.size or 112, a.resize_from)
    rng = np.random.default_rng(a.seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.6, 1.4, c), rng.uniform(-0.2, 0.2, c),
                               rng.uniform(-0.2, 0.2, c), rng.uniform(0.5, 1.5, c)])
    os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
    model.save(a.output)
    print(f"wrote {a.output}: {model.count_params()} parameters")


def vgg(keras, layers, size, resize_from=None):
    x = keras.Input((resize_from or size, resize_from or size, 3), name="frames")
    h = layers.Resizing(size, size, name="resize")(x) if resize_from else x
    h = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(h)
    for i, filters in enumerate([32, 64, 128, 128]):
        h = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(h)
        h = layers.BatchNormalization(name=f"bn{i + 1}")(h)
        h = layers.ReLU(name=f"relu{i + 1}")(h)
        if i < 3:
            h = layers.MaxPooling2D(2, name=f"pool{i + 1}")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    y = layers.Dense(10, activation="softmax", name="classes")(h)
    return keras.Model(x, y, name="stream_vgg")


if __name__ == "__main__":
    main()
