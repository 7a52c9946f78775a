"""Golden fixtures for the custom layers of keras.applications: ConvNeXt's
LayerScale and StochasticDepth, Inception-ResNet-v2's CustomScaleLayer
(Keras 3 and tf-keras classes).

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_applications.py
"""
import numpy as np
from keras.src.applications import convnext, inception_resnet_v2
from tf_keras.src.applications import convnext as convnext2, inception_resnet_v2 as inception_resnet_v2_2
from layer_fixtures import clean, save_case

FAMILY = "applications"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(9)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    save_case(FAMILY, "layer_scale", convnext.LayerScale(1e-6, 4), [x(2, 3, 3, 4)], rng)
    save_case(FAMILY, "layer_scale_keras2", convnext2.LayerScale(1e-6, 3), [x(2, 3)], rng)
    save_case(FAMILY, "stochastic_depth", convnext.StochasticDepth(0.1), [x(2, 3, 3, 4)], rng)
    save_case(FAMILY, "stochastic_depth_keras2", convnext2.StochasticDepth(0.2), [x(2, 4)], rng)
    save_case(FAMILY, "custom_scale_layer", inception_resnet_v2.CustomScaleLayer(0.17), [x(2, 3, 3, 2), x(2, 3, 3, 2)], rng)
    save_case(FAMILY, "custom_scale_layer_keras2", inception_resnet_v2_2.CustomScaleLayer(0.1), [x(2, 4), x(2, 4)], rng)


if __name__ == "__main__":
    main()
