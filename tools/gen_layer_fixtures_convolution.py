"""Golden fixtures for convolution layers: Conv1D/2D/3D, DepthwiseConv1D/2D,
SeparableConv1D/2D, Conv1D/2D/3DTranspose (Keras 3, plus tf-keras where the
config or weight names differ).

Run from tools/: ../.venv/bin/python gen_layer_fixtures_convolution.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "convolution"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(3)
    x = lambda *s: rng.uniform(-2, 2, size=s).astype(np.float32)
    L, K2 = keras.layers, tf_keras.layers

    def case(name, layer, shape):
        save_case(FAMILY, name, layer, [x(*shape)], rng)

    # Conv1D: strides, same padding on an odd length, causal with dilation, groups.
    case("conv1d_valid", L.Conv1D(3, 3), (2, 7, 2))
    case("conv1d_same_stride2_odd", L.Conv1D(2, 4, strides=2, padding="same", activation="relu"), (2, 9, 3))
    case("conv1d_causal_dilation2", L.Conv1D(2, 3, padding="causal", dilation_rate=2, activation="tanh"), (2, 8, 2))
    case("conv1d_causal_stride2", L.Conv1D(2, 2, strides=2, padding="causal"), (2, 7, 2))
    case("conv1d_groups2_no_bias", L.Conv1D(4, 3, groups=2, use_bias=False), (2, 6, 4))
    case("conv1d_keras2_causal", K2.Conv1D(2, 3, padding="causal"), (2, 6, 3))
    case("conv1d_regularized", L.Conv1D(2, 2, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1),
                                        activity_regularizer="l1"), (2, 5, 2))

    # Conv2D: asymmetric same padding (odd sizes, stride 2), per-axis kernel and strides, dilation, groups.
    case("conv2d_valid", L.Conv2D(3, 3), (2, 5, 6, 2))
    case("conv2d_same_stride2_odd", L.Conv2D(2, 3, strides=2, padding="same", activation="relu"), (2, 7, 5, 3))
    case("conv2d_same_even_kernel", L.Conv2D(2, 2, padding="same"), (2, 5, 4, 2))
    case("conv2d_rect_kernel_strides", L.Conv2D(3, (3, 2), strides=(2, 1)), (2, 7, 5, 2))
    case("conv2d_dilation2_same", L.Conv2D(2, 3, dilation_rate=2, padding="same", activation="sigmoid"), (2, 7, 6, 2))
    case("conv2d_dilation_rect_valid", L.Conv2D(2, 2, dilation_rate=(2, 3)), (2, 6, 7, 1))
    case("conv2d_groups3", L.Conv2D(6, 2, groups=3, padding="same"), (2, 4, 5, 3))
    case("conv2d_keras2", K2.Conv2D(2, 3, strides=2, padding="same"), (2, 6, 5, 2))

    # Conv3D.
    case("conv3d_valid", L.Conv3D(2, 2), (2, 4, 3, 4, 2))
    case("conv3d_same_stride2_odd", L.Conv3D(2, (3, 2, 3), strides=2, padding="same", activation="relu"), (2, 5, 4, 3, 2))
    case("conv3d_groups2_dilation", L.Conv3D(2, 2, groups=2, dilation_rate=(1, 2, 1)), (2, 3, 5, 3, 2))

    # DepthwiseConv1D/2D: depth multiplier, strides, dilation; tf-keras names the kernel depthwise_kernel.
    case("depthwise_conv1d_valid", L.DepthwiseConv1D(3), (2, 7, 3))
    case("depthwise_conv1d_same_mult2_stride2", L.DepthwiseConv1D(3, strides=2, padding="same", depth_multiplier=2),
         (2, 9, 2))
    case("depthwise_conv2d_same_mult2_stride2_odd",
         L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu"), (2, 7, 5, 3))
    case("depthwise_conv2d_dilation2", L.DepthwiseConv2D((2, 3), dilation_rate=2, use_bias=False), (2, 6, 7, 2))
    case("depthwise_conv2d_keras2", K2.DepthwiseConv2D(3, padding="same", depth_multiplier=2), (2, 5, 4, 2))
    case("depthwise_conv1d_keras2", K2.DepthwiseConv1D(2, strides=2), (2, 7, 3))
    case("depthwise_conv2d_regularized", L.DepthwiseConv2D(2, depthwise_regularizer="l2", bias_regularizer="l1"),
         (2, 3, 4, 2))

    # SeparableConv1D/2D.
    case("separable_conv1d_valid", L.SeparableConv1D(3, 3), (2, 7, 2))
    case("separable_conv1d_same_mult2_stride2", L.SeparableConv1D(2, 3, strides=2, padding="same", depth_multiplier=2),
         (2, 9, 3))
    case("separable_conv1d_keras2_causal", K2.SeparableConv1D(2, 3, padding="causal", dilation_rate=2), (2, 7, 2))
    case("separable_conv2d_same_stride2_odd",
         L.SeparableConv2D(3, 3, strides=2, padding="same", depth_multiplier=2, activation="relu"), (2, 7, 5, 2))
    case("separable_conv2d_dilation2", L.SeparableConv2D(2, 2, dilation_rate=2, use_bias=False), (2, 6, 5, 3))
    case("separable_conv2d_keras2", K2.SeparableConv2D(2, 3, padding="same"), (2, 5, 6, 2))
    case("separable_conv2d_regularized",
         L.SeparableConv2D(2, 2, depthwise_regularizer="l2", pointwise_regularizer=keras.regularizers.L1(0.05),
                           activity_regularizer="l2"), (2, 3, 4, 2))

    # Conv1D/2D/3DTranspose: strides, output_padding, dilation.
    case("conv1d_transpose_valid_stride2", L.Conv1DTranspose(2, 3, strides=2), (2, 5, 3))
    case("conv1d_transpose_stride3_small_kernel", L.Conv1DTranspose(2, 2, strides=3), (2, 4, 2))
    case("conv1d_transpose_same_output_padding", L.Conv1DTranspose(3, 4, strides=2, padding="same", output_padding=1),
         (2, 5, 2))
    case("conv2d_transpose_valid", L.Conv2DTranspose(2, 3), (2, 4, 3, 2))
    case("conv2d_transpose_same_stride2", L.Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu"),
         (2, 3, 4, 3))
    case("conv2d_transpose_output_padding",
         L.Conv2DTranspose(2, (3, 2), strides=(2, 3), output_padding=(1, 2)), (2, 3, 3, 2))
    case("conv2d_transpose_same_output_padding",
         L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=(0, 1)), (2, 3, 4, 2))
    case("conv2d_transpose_keras2", K2.Conv2DTranspose(2, 3, strides=2, padding="same"), (2, 3, 4, 2))
    case("conv2d_transpose_keras2_output_padding", K2.Conv2DTranspose(3, 2, strides=2, output_padding=1), (2, 3, 3, 2))
    case("conv2d_transpose_regularized", L.Conv2DTranspose(2, 2, kernel_regularizer="l1l2"), (2, 2, 3, 2))
    case("conv3d_transpose_same_stride2", L.Conv3DTranspose(2, 2, strides=2, padding="same"), (2, 2, 3, 2, 2))
    case("conv3d_transpose_valid", L.Conv3DTranspose(2, (2, 3, 2), use_bias=False), (2, 2, 2, 3, 2))


if __name__ == "__main__":
    main()
