"""A sweep of small models as real users write them, loaded by the Swift CLI
and compared with Keras's own prediction.

Each case builds a small model (every common layer with non-default options,
activations, recurrent variants, attention, merges, Keras 3 ops and tf-keras
TF ops on symbolic tensors, nested and multi-input/-output models, and
keras.applications at non-default settings) in Keras 3 (`import keras`) and/or
tf-keras (`import tf_keras`), gives every weight a non-trivial random value
(BatchNormalization statistics included), and writes into the git-ignored
.fixtures/sweep/:

  <case>_keras3.h5 / .keras / .weights.h5   Keras 3: model.save twice, save_weights
  <case>_keras2.h5 / .weights_only.h5       tf-keras: model.save, save_weights
  <case>_<writer>.arch.{keras,h5}           the architecture with its initial weights,
                                            which the weights-only files are loaded into
  <case>_<writer>.in<i>.npy / .out<j>.npy   a fixed input and Keras's prediction

then runs `keras-delta predict` on each model file (weights-only files through
`keras-delta convert W OUT --model ARCH` first) and prints PASS/FAIL per case
and file: the largest error max|y − y_keras|/(1+|y_keras|) (the bound is 1e-4),
or the CLI's error line. `results.json` in the folder holds the same.

Run: .venv/bin/python tools/sweep_keras_models.py [--only SUBSTR,…] [--skip-generate] [--jobs N] [--cli PATH]
"""
import argparse
import concurrent.futures
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys
import time
import traceback
import warnings
import zlib

import gen_application_models as apps

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".fixtures/sweep"
DEFAULT_CLI = ROOT / ".build/release/keras-delta"
TOLERANCE = 1e-4
BATCH = 2
BOTH = ("keras3", "keras2")
K3 = ("keras3",)
K2 = ("keras2",)

# --- the cases ----------------------------------------------------------------
#
# A case is (name, writers, build) where build(E) returns a model, or
# (model, inputs) when the inputs are not uniform(-1, 1) floats. E carries the
# Keras module (E.k), its layers (E.L), the writer tag (E.tag), keras.ops
# (E.ops, Keras 3) and tensorflow (E.tf).

CASES = []


def case(name, writers=BOTH):
    def register(build):
        CASES.append((name, writers, build))
        return build
    return register


def add(name, writers, build):
    CASES.append((name, writers, build))


def chain(E, shape, *layers, sequential=False):
    """A functional (or Sequential) model of `layers` applied in turn."""
    if sequential:
        return E.k.Sequential([E.k.Input(shape)] + list(layers))
    x = E.k.Input(shape)
    y = x
    for layer in layers:
        y = layer(y)
    return E.k.Model(x, y)


def simple(name, shape, make, writers=BOTH, sequential=False):
    """A case of one or more layers on one input of `shape`; make(E) returns the layers."""
    def build(E):
        layers = make(E)
        return chain(E, shape, *(layers if isinstance(layers, (list, tuple)) else [layers]), sequential=sequential)
    add(name, writers, build)


# Activations, as Dense's activation string and as Activation layers.
ACTIVATIONS_BOTH = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "hard_sigmoid", "swish",
                    "gelu", "exponential", "linear", "mish"]
ACTIVATIONS_K3 = ["silu", "hard_swish", "hard_silu", "leaky_relu", "relu6", "log_softmax", "celu", "glu", "hard_shrink",
                  "hard_tanh", "log_sigmoid", "soft_shrink", "sparse_plus", "squareplus", "tanh_shrink", "sparsemax"]
for a in ACTIVATIONS_BOTH + ACTIVATIONS_K3:
    w = BOTH if a in ACTIVATIONS_BOTH else K3
    simple(f"dense_act_{a}", (6,), lambda E, a=a: E.L.Dense(4, activation=a), w)
    simple(f"activation_{a}_3d", (3, 6), lambda E, a=a: E.L.Activation(a), w)

# Core.
simple("dense_3d_input", (3, 5), lambda E: E.L.Dense(4, use_bias=False))
simple("dense_4d_input", (2, 3, 5), lambda E: E.L.Dense(4, activation="relu"))
simple("sequential_dense", (5,), lambda E: [E.L.Dense(8, activation="relu"), E.L.Dropout(0.5), E.L.Dense(3)], sequential=True)
simple("einsum_dense", (3, 5), lambda E: E.L.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d"))
simple("einsum_dense_left", (3, 5), lambda E: E.L.EinsumDense("...b,bc->...c", output_shape=4, bias_axes="c", activation="tanh"))


@case("embedding")
def _(E):
    model = chain(E, (5,), E.L.Embedding(10, 4), E.L.Flatten())
    return model, [E.np.array([[1, 2, 3, 0, 9], [4, 4, 0, 1, 2]], "float32")]


@case("embedding_mask_lstm")
def _(E):
    model = chain(E, (5,), E.L.Embedding(10, 4, mask_zero=True), E.L.LSTM(3))
    return model, [E.np.array([[1, 2, 3, 0, 0], [4, 4, 1, 1, 2]], "float32")]


@case("embedding_mask_gap")
def _(E):
    model = chain(E, (5,), E.L.Embedding(10, 4, mask_zero=True), E.L.GlobalAveragePooling1D())
    return model, [E.np.array([[1, 2, 3, 0, 0], [4, 4, 1, 1, 2]], "float32")]


simple("masking_gru", (4, 3), lambda E: [E.L.Masking(0.0), E.L.GRU(3)])

# Convolutions.
simple("conv1d_causal_dilated", (12, 3), lambda E: E.L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"))
simple("conv1d_same_strided", (11, 3), lambda E: E.L.Conv1D(4, 3, strides=2, padding="same", use_bias=False))
simple("conv1d_groups", (10, 4), lambda E: E.L.Conv1D(6, 3, groups=2))
simple("conv1d_valid_stride3", (13, 3), lambda E: E.L.Conv1D(2, 4, strides=3))
simple("conv2d_dilated_same", (9, 10, 3), lambda E: E.L.Conv2D(4, 3, dilation_rate=(2, 1), padding="same", activation="elu"))
simple("conv2d_groups", (8, 8, 4), lambda E: E.L.Conv2D(8, (3, 2), groups=4, activation="gelu"))
simple("conv2d_strided_same_even", (8, 9, 3), lambda E: E.L.Conv2D(5, 4, strides=(2, 3), padding="same"))
simple("conv2d_1x1_nobias", (5, 5, 3), lambda E: E.L.Conv2D(4, 1, use_bias=False))
simple("conv2d_5x5_stride2_valid", (11, 11, 2), lambda E: E.L.Conv2D(3, 5, strides=2))
simple("conv3d", (5, 6, 6, 2), lambda E: E.L.Conv3D(3, (2, 3, 3), strides=(1, 2, 1), padding="same", dilation_rate=1))
simple("conv3d_dilated", (6, 6, 6, 2), lambda E: E.L.Conv3D(3, 2, dilation_rate=2, use_bias=False))
simple("conv3d_groups", (4, 5, 5, 4), lambda E: E.L.Conv3D(4, 2, groups=2))
simple("separable1d", (10, 3), lambda E: E.L.SeparableConv1D(4, 3, depth_multiplier=2, padding="same", activation="relu"))
simple("separable1d_dilated", (12, 3), lambda E: E.L.SeparableConv1D(4, 3, dilation_rate=2, use_bias=False))
simple("separable2d", (8, 8, 3), lambda E: E.L.SeparableConv2D(5, 3, strides=2, depth_multiplier=2, padding="same"))
simple("separable2d_dilated", (9, 9, 3), lambda E: E.L.SeparableConv2D(4, 3, dilation_rate=2))
simple("depthwise1d", (10, 3), lambda E: E.L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", strides=2))
simple("depthwise2d", (8, 8, 3), lambda E: E.L.DepthwiseConv2D(3, depth_multiplier=3, use_bias=False))
simple("depthwise2d_dilated", (9, 9, 3), lambda E: E.L.DepthwiseConv2D((3, 2), dilation_rate=(2, 2), padding="same"))
simple("depthwise2d_strided", (9, 9, 3), lambda E: E.L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6" if E.tag == "keras3" else "relu"))
simple("conv1d_transpose", (6, 3), lambda E: E.L.Conv1DTranspose(4, 3, strides=2))
simple("conv1d_transpose_outpad", (6, 3), lambda E: E.L.Conv1DTranspose(4, 3, strides=2, output_padding=1, padding="same"))
simple("conv1d_transpose_dilated", (6, 3), lambda E: E.L.Conv1DTranspose(4, 3, dilation_rate=2))
simple("conv2d_transpose_same", (5, 5, 3), lambda E: E.L.Conv2DTranspose(4, 3, strides=2, padding="same"))
simple("conv2d_transpose_valid", (5, 4, 3), lambda E: E.L.Conv2DTranspose(4, (3, 2), strides=(2, 3), use_bias=False))
simple("conv2d_transpose_outpad", (5, 5, 3), lambda E: E.L.Conv2DTranspose(4, 3, strides=3, output_padding=(1, 2)))
simple("conv2d_transpose_k4s2", (4, 4, 3), lambda E: E.L.Conv2DTranspose(2, 4, strides=2, padding="same"))
simple("conv2d_transpose_dilated", (5, 5, 2), lambda E: E.L.Conv2DTranspose(3, 3, dilation_rate=2, padding="same"))
simple("conv3d_transpose", (3, 4, 4, 2), lambda E: E.L.Conv3DTranspose(3, 2, strides=2, padding="same"))
simple("conv3d_transpose_outpad", (3, 3, 3, 2), lambda E: E.L.Conv3DTranspose(3, 3, strides=2, output_padding=1))

# Pooling.
simple("maxpool1d_same", (9, 3), lambda E: E.L.MaxPooling1D(3, strides=2, padding="same"))
simple("avgpool1d", (9, 3), lambda E: E.L.AveragePooling1D(2))
simple("avgpool1d_same", (9, 3), lambda E: E.L.AveragePooling1D(3, strides=2, padding="same"))
simple("maxpool2d", (7, 9, 3), lambda E: E.L.MaxPooling2D((2, 3)))
simple("maxpool2d_same_strided", (7, 9, 3), lambda E: E.L.MaxPooling2D(3, strides=2, padding="same"))
simple("avgpool2d_same", (7, 8, 3), lambda E: E.L.AveragePooling2D(3, strides=2, padding="same"))
simple("avgpool2d_strides1", (6, 6, 2), lambda E: E.L.AveragePooling2D(2, strides=1))
simple("maxpool3d", (4, 6, 6, 2), lambda E: E.L.MaxPooling3D(2))
simple("avgpool3d_same", (5, 5, 5, 2), lambda E: E.L.AveragePooling3D(2, padding="same"))
simple("gap1d_keepdims", (5, 3), lambda E: E.L.GlobalAveragePooling1D(keepdims=True))
simple("gmp1d", (5, 3), lambda E: E.L.GlobalMaxPooling1D())
simple("gap2d_keepdims", (4, 5, 3), lambda E: E.L.GlobalAveragePooling2D(keepdims=True))
simple("gmp2d_keepdims", (4, 5, 3), lambda E: E.L.GlobalMaxPooling2D(keepdims=True))
simple("gap3d", (3, 4, 5, 3), lambda E: E.L.GlobalAveragePooling3D())
simple("gmp3d_keepdims", (3, 4, 5, 3), lambda E: E.L.GlobalMaxPooling3D(keepdims=True))

# Reshaping.
simple("upsampling1d", (4, 3), lambda E: E.L.UpSampling1D(3))
simple("upsampling2d_nearest", (3, 4, 2), lambda E: E.L.UpSampling2D((2, 3)))
simple("upsampling2d_bilinear", (3, 4, 2), lambda E: E.L.UpSampling2D(2, interpolation="bilinear"))
simple("upsampling2d_bilinear_3", (3, 5, 2), lambda E: E.L.UpSampling2D((3, 2), interpolation="bilinear"))
simple("upsampling2d_bicubic", (4, 4, 2), lambda E: E.L.UpSampling2D(2, interpolation="bicubic"))
simple("upsampling3d", (2, 3, 2, 2), lambda E: E.L.UpSampling3D((2, 1, 3)))
simple("cropping1d", (8, 3), lambda E: E.L.Cropping1D((1, 2)))
simple("cropping2d", (8, 7, 3), lambda E: E.L.Cropping2D(((1, 2), (0, 3))))
simple("cropping3d", (5, 6, 7, 2), lambda E: E.L.Cropping3D(((1, 0), (2, 1), (0, 2))))
simple("zeropad1d", (5, 3), lambda E: E.L.ZeroPadding1D((2, 1)))
simple("zeropad2d", (4, 5, 3), lambda E: [E.L.ZeroPadding2D(((1, 0), (2, 3))), E.L.Conv2D(2, 3)])
simple("zeropad3d", (3, 3, 3, 2), lambda E: E.L.ZeroPadding3D((1, 2, 0)))
simple("reshape_flatten", (4, 6), lambda E: [E.L.Reshape((2, 12)), E.L.Flatten(), E.L.Dense(3)])
simple("reshape_minus1", (4, 6), lambda E: E.L.Reshape((-1, 3)))
simple("permute", (2, 3, 4), lambda E: E.L.Permute((3, 1, 2)))
simple("repeat_vector", (4,), lambda E: [E.L.RepeatVector(3), E.L.LSTM(2, return_sequences=True)])
simple("flatten_conv", (4, 4, 2), lambda E: [E.L.Conv2D(3, 2), E.L.Flatten(), E.L.Dense(2)])

# Normalization.
simple("layernorm", (3, 6), lambda E: E.L.LayerNormalization())
simple("layernorm_axes", (3, 4, 5), lambda E: E.L.LayerNormalization(axis=[1, 2], epsilon=1e-3))
simple("layernorm_noscale", (3, 6), lambda E: E.L.LayerNormalization(center=False, scale=False))
simple("layernorm_axis1", (3, 6), lambda E: E.L.LayerNormalization(axis=1))
simple("rmsnorm_layernorm_k3", (3, 6), lambda E: E.L.LayerNormalization(rms_scaling=True), K3)
simple("groupnorm", (4, 4, 6), lambda E: E.L.GroupNormalization(groups=3))
simple("groupnorm_1d", (5, 8), lambda E: E.L.GroupNormalization(groups=2, center=False, epsilon=1e-2))
simple("groupnorm_instance", (4, 4, 4), lambda E: E.L.GroupNormalization(groups=-1))
simple("unitnorm", (3, 6), lambda E: E.L.UnitNormalization())
simple("unitnorm_axes", (3, 6), lambda E: E.L.UnitNormalization(axis=[1, 2]))
simple("batchnorm_dense", (6,), lambda E: [E.L.Dense(5), E.L.BatchNormalization()])
simple("batchnorm_axis1", (4, 5, 3), lambda E: E.L.BatchNormalization(axis=1))
simple("batchnorm_nocenter", (4, 4, 3), lambda E: [E.L.Conv2D(3, 3), E.L.BatchNormalization(center=False)])
simple("batchnorm_noscale", (4, 4, 3), lambda E: [E.L.Conv2D(3, 3), E.L.BatchNormalization(scale=False, epsilon=0.1)])
simple("batchnorm_3d_seq", (5, 4), lambda E: E.L.BatchNormalization(momentum=0.9))
simple("conv_bn_relu_add", (6, 6, 3), lambda E: [E.L.Conv2D(3, 3, padding="same", use_bias=False),
                                                 E.L.BatchNormalization(), E.L.ReLU()])
simple("rmsnorm_k3", (3, 6), lambda E: E.L.RMSNormalization(axis=-1), K3)

# Preprocessing.
simple("rescaling", (4, 4, 3), lambda E: E.L.Rescaling(1 / 127.5, offset=-1))
simple("rescaling_vector", (4, 4, 3), lambda E: E.L.Rescaling([0.5, 2.0, -1.0], offset=[0.1, 0.0, 0.2]), K3)
simple("normalization_given", (4, 3), lambda E: E.L.Normalization(mean=[0.1, 0.2, -0.3], variance=[2.0, 0.5, 1.5]))
simple("normalization_given_axis_none", (4, 3), lambda E: E.L.Normalization(axis=None, mean=0.5, variance=2.0))
simple("normalization_invert", (4, 3), lambda E: E.L.Normalization(mean=[0.1, 0.2, -0.3], variance=[2.0, 0.5, 1.5], invert=True))
simple("centercrop", (8, 7, 3), lambda E: E.L.CenterCrop(4, 5))
simple("resizing_bilinear", (6, 8, 3), lambda E: E.L.Resizing(4, 5))
simple("resizing_nearest_up", (4, 5, 3), lambda E: E.L.Resizing(7, 9, interpolation="nearest"))
simple("resizing_crop_aspect", (6, 8, 3), lambda E: E.L.Resizing(4, 4, crop_to_aspect_ratio=True))
simple("resizing_bicubic", (6, 8, 3), lambda E: E.L.Resizing(9, 5, interpolation="bicubic"))
simple("resizing_area", (8, 8, 3), lambda E: E.L.Resizing(4, 4, interpolation="area"))
simple("random_layers_inference", (8, 8, 3), lambda E: [E.L.RandomFlip(), E.L.RandomRotation(0.1), E.L.RandomZoom(0.1),
                                                        E.L.RandomContrast(0.2), E.L.Conv2D(2, 3)])

# Regularization (identity at inference).
simple("dropouts", (6, 6, 3), lambda E: [E.L.SpatialDropout2D(0.3), E.L.GaussianNoise(0.5), E.L.GaussianDropout(0.2),
                                         E.L.AlphaDropout(0.2), E.L.Dropout(0.5), E.L.Conv2D(2, 3)])
simple("spatialdropout1d", (6, 3), lambda E: [E.L.SpatialDropout1D(0.3), E.L.Conv1D(2, 3)])
simple("spatialdropout3d", (4, 4, 4, 2), lambda E: [E.L.SpatialDropout3D(0.3), E.L.Conv3D(2, 2)])
simple("activity_regularization", (4,), lambda E: [E.L.ActivityRegularization(l1=0.1), E.L.Dense(2)])

# Activation layers.
simple("relu_options", (8,), lambda E: E.L.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.2))
simple("relu_max6", (8,), lambda E: E.L.ReLU(6.0))
simple("leakyrelu", (8,), lambda E: E.L.LeakyReLU(0.2) if E.tag == "keras2" else E.L.LeakyReLU(negative_slope=0.2))
simple("leakyrelu_default", (8,), lambda E: E.L.LeakyReLU())
simple("prelu_shared", (4, 4, 3), lambda E: E.L.PReLU(shared_axes=[1, 2]))
simple("prelu", (3, 4), lambda E: E.L.PReLU())
simple("elu_layer", (8,), lambda E: E.L.ELU(alpha=0.5))
simple("softmax_axis", (3, 4), lambda E: E.L.Softmax(axis=1))
simple("softmax_default", (3, 4), lambda E: E.L.Softmax())
simple("thresholded_relu", (8,), lambda E: E.L.ThresholdedReLU(theta=0.3), K2)

# Recurrent.
simple("lstm_seq", (5, 3), lambda E: E.L.LSTM(4, return_sequences=True))
simple("lstm_backwards", (5, 3), lambda E: E.L.LSTM(4, go_backwards=True))
simple("lstm_unroll", (5, 3), lambda E: E.L.LSTM(3, unroll=True, recurrent_activation="hard_sigmoid", activation="relu"))
simple("lstm_nobias", (5, 3), lambda E: E.L.LSTM(3, use_bias=False, unit_forget_bias=False))
simple("gru_reset_before", (5, 3), lambda E: E.L.GRU(4, reset_after=False, return_sequences=True))
simple("gru_backwards", (5, 3), lambda E: E.L.GRU(4, go_backwards=True, recurrent_activation="tanh"))
simple("gru_unroll", (4, 3), lambda E: E.L.GRU(3, unroll=True, activation="softsign"))
simple("simplernn", (5, 3), lambda E: E.L.SimpleRNN(4, activation="relu", return_sequences=True, go_backwards=True))
simple("simplernn_stack", (5, 3), lambda E: [E.L.SimpleRNN(4, return_sequences=True), E.L.SimpleRNN(2)], sequential=True)
simple("rnn_cells", (5, 3), lambda E: E.L.RNN([E.L.LSTMCell(3), E.L.GRUCell(2)], return_sequences=True))
simple("rnn_simple_cell", (5, 3), lambda E: E.L.RNN(E.L.SimpleRNNCell(3), go_backwards=True))
simple("bidirectional_concat", (5, 3), lambda E: E.L.Bidirectional(E.L.LSTM(3, return_sequences=True)))
simple("bidirectional_sum", (5, 3), lambda E: E.L.Bidirectional(E.L.GRU(3), merge_mode="sum"))
simple("bidirectional_mul", (5, 3), lambda E: E.L.Bidirectional(E.L.SimpleRNN(3), merge_mode="mul"))
simple("bidirectional_ave", (5, 3), lambda E: E.L.Bidirectional(E.L.LSTM(3, return_sequences=True), merge_mode="ave"))
simple("bidirectional_backward_layer", (5, 3), lambda E: E.L.Bidirectional(
    E.L.LSTM(3), backward_layer=E.L.GRU(3, go_backwards=True)))
simple("convlstm1d", (3, 6, 2), lambda E: E.L.ConvLSTM1D(3, 3, padding="same", return_sequences=True))
simple("convlstm2d", (3, 5, 5, 2), lambda E: E.L.ConvLSTM2D(3, 3, strides=2))
simple("convlstm2d_backwards", (3, 5, 5, 2), lambda E: E.L.ConvLSTM2D(2, 2, go_backwards=True, dilation_rate=1, padding="same"))
simple("timedistributed_dense", (4, 5), lambda E: E.L.TimeDistributed(E.L.Dense(3)))
simple("timedistributed_conv", (3, 6, 6, 2), lambda E: [E.L.TimeDistributed(E.L.Conv2D(3, 3)),
                                                        E.L.TimeDistributed(E.L.GlobalAveragePooling2D()), E.L.LSTM(2)])


@case("lstm_return_state")
def _(E):
    x = E.k.Input((5, 3))
    seq, h, c = E.L.LSTM(4, return_sequences=True, return_state=True)(x)
    y = E.L.GRU(3)(seq, initial_state=None)
    return E.k.Model(x, [y, h, c])


@case("gru_return_state_initial")
def _(E):
    x = E.k.Input((5, 3))
    _, h = E.L.GRU(4, return_state=True)(x)
    y = E.L.GRU(4, reset_after=False)(x, initial_state=[h])
    return E.k.Model(x, [y, h])


@case("lstm_encoder_decoder")
def _(E):
    a, b = E.k.Input((5, 3)), E.k.Input((4, 2))
    _, h, c = E.L.LSTM(4, return_state=True)(a)
    y = E.L.LSTM(4, return_sequences=True)(b, initial_state=[h, c])
    return E.k.Model([a, b], E.L.Dense(2)(y))


@case("bidirectional_return_state")
def _(E):
    x = E.k.Input((5, 3))
    outs = E.L.Bidirectional(E.L.LSTM(3, return_state=True))(x)
    return E.k.Model(x, list(outs))


@case("bidirectional_merge_none")
def _(E):
    x = E.k.Input((5, 3))
    outs = E.L.Bidirectional(E.L.GRU(3), merge_mode=None)(x)
    return E.k.Model(x, list(outs))


# Attention.
@case("attention_dot")
def _(E):
    q, v = E.k.Input((4, 6)), E.k.Input((5, 6))
    return E.k.Model([q, v], E.L.Attention()([q, v]))


@case("attention_scale_key")
def _(E):
    q, v, key = E.k.Input((4, 6)), E.k.Input((5, 6)), E.k.Input((5, 6))
    return E.k.Model([q, v, key], E.L.Attention(use_scale=True)([q, v, key]))


@case("attention_concat_causal")
def _(E):
    q = E.k.Input((5, 6))
    kwargs = {"score_mode": "concat"}
    y = E.L.Attention(**kwargs)([q, q], use_causal_mask=True)
    return E.k.Model(q, y)


@case("attention_return_scores")
def _(E):
    q, v = E.k.Input((4, 6)), E.k.Input((5, 6))
    y, s = E.L.Attention()([q, v], return_attention_scores=True)
    return E.k.Model([q, v], [y, s])


@case("attention_masked_embedding")
def _(E):
    t = E.k.Input((5,))
    e = E.L.Embedding(10, 6, mask_zero=True)(t)
    y = E.L.Attention()([e, e])
    model = E.k.Model(t, E.L.GlobalAveragePooling1D()(y))
    return model, [E.np.array([[1, 2, 3, 0, 0], [4, 4, 1, 1, 2]], "float32")]


@case("additive_attention")
def _(E):
    q, v = E.k.Input((4, 6)), E.k.Input((5, 6))
    return E.k.Model([q, v], E.L.AdditiveAttention()([q, v]))


@case("additive_attention_noscale")
def _(E):
    q, v, key = E.k.Input((4, 6)), E.k.Input((5, 6)), E.k.Input((5, 6))
    return E.k.Model([q, v, key], E.L.AdditiveAttention(use_scale=False)([q, v, key]))


@case("mha_self")
def _(E):
    x = E.k.Input((5, 8))
    return E.k.Model(x, E.L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x))


@case("mha_cross_key_value_dims")
def _(E):
    q, v, key = E.k.Input((4, 8)), E.k.Input((6, 5)), E.k.Input((6, 7))
    layer = E.L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_shape=(6,), use_bias=False)
    return E.k.Model([q, v, key], layer(q, v, key))


@case("mha_scores")
def _(E):
    q, v = E.k.Input((4, 8)), E.k.Input((6, 8))
    y, s = E.L.MultiHeadAttention(num_heads=2, key_dim=3)(q, v, return_attention_scores=True)
    return E.k.Model([q, v], [y, s])


@case("mha_attention_axes")
def _(E):
    x = E.k.Input((3, 4, 6))
    return E.k.Model(x, E.L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(2,))(x, x))


@case("mha_attention_axes_2d")
def _(E):
    x = E.k.Input((3, 4, 6))
    return E.k.Model(x, E.L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))(x, x))


@case("mha_causal")
def _(E):
    x = E.k.Input((5, 8))
    return E.k.Model(x, E.L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True))


@case("mha_attention_mask_input")
def _(E):
    x, m = E.k.Input((5, 8)), E.k.Input((5, 5))
    model = E.k.Model([x, m], E.L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, attention_mask=m))
    rng = E.np.random.default_rng(5)
    mask = (rng.uniform(size=(BATCH, 5, 5)) > 0.3).astype("float32")
    mask[:, :, 0] = 1
    return model, [rng.uniform(-1, 1, (BATCH, 5, 8)).astype("float32"), mask]


@case("mha_embedding_mask")
def _(E):
    t = E.k.Input((5,))
    e = E.L.Embedding(10, 8, mask_zero=True)(t)
    y = E.L.MultiHeadAttention(num_heads=2, key_dim=4)(e, e)
    model = E.k.Model(t, y)
    return model, [E.np.array([[1, 2, 3, 0, 0], [4, 4, 1, 1, 2]], "float32")]


@case("transformer_block")
def _(E):
    x = E.k.Input((6, 8))
    h = E.L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)(x, x)
    h = E.L.LayerNormalization(epsilon=1e-6)(E.L.Add()([x, h]))
    f = E.L.Dense(16, activation="gelu")(h)
    f = E.L.Dense(8)(f)
    y = E.L.LayerNormalization(epsilon=1e-6)(E.L.Add()([h, f]))
    return E.k.Model(x, E.L.GlobalAveragePooling1D()(y))


# Merging.
def merge_case(name, make, shapes=((4,), (4,)), writers=BOTH):
    def build(E):
        xs = [E.k.Input(s) for s in shapes]
        return E.k.Model(xs, make(E)(xs))
    add(name, writers, build)


merge_case("add3", lambda E: E.L.Add(), ((4,), (4,), (4,)))
merge_case("subtract", lambda E: E.L.Subtract())
merge_case("multiply", lambda E: E.L.Multiply())
merge_case("average", lambda E: E.L.Average(), ((3, 4), (3, 4)))
merge_case("maximum", lambda E: E.L.Maximum())
merge_case("minimum", lambda E: E.L.Minimum(), ((2, 4), (2, 4), (2, 4)))
merge_case("concat_axis1", lambda E: E.L.Concatenate(axis=1), ((2, 4), (3, 4)))
merge_case("concat_axis_neg2", lambda E: E.L.Concatenate(axis=-2), ((2, 4), (3, 4)))
merge_case("concat_last", lambda E: E.L.Concatenate(), ((2, 4), (2, 3)))
merge_case("add_broadcast", lambda E: E.L.Add(), ((3, 4), (1, 4)))
merge_case("dot_1", lambda E: E.L.Dot(axes=1), ((4,), (4,)))
merge_case("dot_normalize", lambda E: E.L.Dot(axes=1, normalize=True), ((4,), (4,)))
merge_case("dot_3d", lambda E: E.L.Dot(axes=(2, 2)), ((3, 4), (5, 4)))
merge_case("dot_3d_axes1", lambda E: E.L.Dot(axes=1), ((3, 4), (3, 5)))
merge_case("dot_3d_mixed", lambda E: E.L.Dot(axes=(1, 2), normalize=True), ((3, 4), (5, 3)))


# Graph structure.
@case("nested_sequential")
def _(E):
    inner = E.k.Sequential([E.k.Input((6,)), E.L.Dense(5, activation="relu"), E.L.Dense(3)], name="inner")
    x = E.k.Input((6,))
    return E.k.Model(x, E.L.Dense(2)(inner(x)))


@case("nested_functional_twice")
def _(E):
    a = E.k.Input((4,))
    inner = E.k.Model(a, E.L.Dense(3, activation="tanh")(a), name="inner")
    x, y = E.k.Input((4,)), E.k.Input((4,))
    return E.k.Model([x, y], E.L.Concatenate()([inner(x), inner(y)]))


@case("shared_layer_twice")
def _(E):
    x, y = E.k.Input((5,)), E.k.Input((5,))
    shared = E.L.Dense(3, activation="relu")
    return E.k.Model([x, y], E.L.Subtract()([shared(x), shared(y)]))


@case("shared_conv_siamese")
def _(E):
    x, y = E.k.Input((6, 6, 2)), E.k.Input((6, 6, 2))
    conv = E.L.Conv2D(3, 3)
    pool = E.L.GlobalMaxPooling2D()
    return E.k.Model([x, y], E.L.Dot(axes=1, normalize=True)([pool(conv(x)), pool(conv(y))]))


@case("multi_output")
def _(E):
    x = E.k.Input((6,))
    h = E.L.Dense(8, activation="relu")(x)
    return E.k.Model(x, [E.L.Dense(3, activation="softmax", name="cls")(h), E.L.Dense(1, name="reg")(h)])


@case("multi_input_output_dict")
def _(E):
    a, b = E.k.Input((4,), name="a"), E.k.Input((3,), name="b")
    h = E.L.Concatenate()([a, b])
    return E.k.Model({"a": a, "b": b}, {"out1": E.L.Dense(2, name="out1")(h), "out2": E.L.Dense(1, name="out2")(h)})


@case("input_passthrough_output")
def _(E):
    x = E.k.Input((4,))
    return E.k.Model(x, [E.L.Dense(2)(x), x])


@case("nested_sequential_in_sequential")
def _(E):
    inner = E.k.Sequential([E.L.Dense(4, activation="relu"), E.L.Dense(4)])
    return E.k.Sequential([E.k.Input((5,)), inner, E.L.Dense(2)])


@case("timedistributed_nested_model")
def _(E):
    a = E.k.Input((5, 5, 2))
    cnn = E.k.Model(a, E.L.GlobalAveragePooling2D()(E.L.Conv2D(3, 3, activation="relu")(a)), name="cnn")
    x = E.k.Input((3, 5, 5, 2))
    return E.k.Model(x, E.L.GRU(2)(E.L.TimeDistributed(cnn)(x)))


# Keras 3 ops on symbolic tensors.
def op_case(name, fn, shape=(3, 4), inputs=1, positive=False):
    def build(E):
        xs = [E.k.Input(shape) for _ in range(inputs)]
        model = E.k.Model(xs if inputs > 1 else xs[0], fn(E.ops, *xs))
        if positive:
            rng = E.np.random.default_rng(zlib.crc32(name.encode()))
            return model, [rng.uniform(0.1, 2.0, (BATCH,) + shape).astype("float32") for _ in xs]
        return model
    add("ops_" + name, K3, build)


op_case("mean_keepdims", lambda o, x: o.mean(x, axis=-1, keepdims=True))
op_case("max_keepdims", lambda o, x: o.max(x, axis=1, keepdims=True))
op_case("sum_axes", lambda o, x: o.sum(x, axis=(1, 2)))
op_case("prod", lambda o, x: o.prod(x, axis=1))
op_case("var", lambda o, x: o.var(x, axis=-1))
op_case("std", lambda o, x: o.std(x, axis=1, keepdims=True))
op_case("argmax", lambda o, x: o.argmax(x, axis=-1))
op_case("argmin", lambda o, x: o.argmin(x, axis=1))
op_case("log", lambda o, x: o.log(x), positive=True)
op_case("log1p_expm1", lambda o, x: o.expm1(o.log1p(x)), positive=True)
op_case("clip", lambda o, x: o.clip(x, -0.3, 0.5))
op_case("stack", lambda o, x, y: o.stack([x, y], axis=1), inputs=2)
op_case("matmul", lambda o, x, y: o.matmul(x, o.transpose(y, (0, 2, 1))), inputs=2)
op_case("split", lambda o, x: o.split(x, 2, axis=-1)[1])
op_case("split_both", lambda o, x: o.split(x, [1, 3], axis=-1))
op_case("softmax_axis", lambda o, x: o.softmax(x, axis=1))
op_case("log_softmax", lambda o, x: o.log_softmax(x, axis=-1))
op_case("abs_sqrt", lambda o, x: o.sqrt(o.abs(x)))
op_case("square_exp", lambda o, x: o.exp(o.square(x)))
op_case("add_const", lambda o, x: x * 2.0 + 1.0)
op_case("sub_div", lambda o, x, y: (x - y) / (o.abs(y) + 1.0), inputs=2)
op_case("rsub_rdiv", lambda o, x: 1.0 / (2.0 - x))
op_case("pow", lambda o, x: o.power(o.abs(x), 1.5))
op_case("getitem", lambda o, x: x[:, 1:, ::2])
op_case("getitem_index", lambda o, x: x[:, 0])
op_case("reshape_transpose", lambda o, x: o.transpose(o.reshape(x, (-1, 2, 6)), (0, 2, 1)))
op_case("expand_squeeze", lambda o, x: o.squeeze(o.expand_dims(x, 1), axis=1))
op_case("concatenate", lambda o, x, y: o.concatenate([x, y], axis=-1), inputs=2)
op_case("where", lambda o, x: o.where(x > 0, x, 0.1 * x))
op_case("maximum_const", lambda o, x: o.maximum(x, 0.2))
op_case("minimum_tensors", lambda o, x, y: o.minimum(x, y), inputs=2)
op_case("tanh_sigmoid", lambda o, x: o.tanh(x) + o.sigmoid(x))
op_case("relu_gelu", lambda o, x: o.nn.relu(x) + o.nn.gelu(x))
op_case("cumsum", lambda o, x: o.cumsum(x, axis=1))
op_case("norm", lambda o, x: o.norm(x, axis=-1))
op_case("l2_normalize", lambda o, x: o.normalize(x, axis=-1))
op_case("einsum", lambda o, x, y: o.einsum("bij,bkj->bik", x, y), inputs=2)
op_case("tile_repeat", lambda o, x: o.repeat(o.tile(x, (1, 2, 1)), 2, axis=-1))
op_case("negative_reciprocal", lambda o, x: o.negative(o.reciprocal(o.abs(x) + 1.0)))
op_case("round_floor", lambda o, x: o.floor(x * 3.0) + o.round(x * 2.0))
op_case("sign", lambda o, x: o.sign(x))
op_case("any_cast", lambda o, x: o.cast(o.greater(x, 0.0), "float32"))
op_case("logsumexp", lambda o, x: o.logsumexp(x, axis=-1))
op_case("moments_like", lambda o, x: o.mean(o.square(x - o.mean(x, axis=-1, keepdims=True)), axis=-1))
op_case("flip", lambda o, x: o.flip(x, axis=1))
op_case("swapaxes", lambda o, x: o.swapaxes(x, 1, 2))
op_case("erf", lambda o, x: o.erf(x))
op_case("mean_all", lambda o, x: o.mean(x))

# tf-keras TF ops on KerasTensors.
def tf_case(name, fn, shape=(3, 4), inputs=1, positive=False):
    def build(E):
        xs = [E.k.Input(shape) for _ in range(inputs)]
        model = E.k.Model(xs if inputs > 1 else xs[0], fn(E.tf, *xs))
        if positive:
            rng = E.np.random.default_rng(zlib.crc32(name.encode()))
            return model, [rng.uniform(0.1, 2.0, (BATCH,) + shape).astype("float32") for _ in xs]
        return model
    add("tf_" + name, K2, build)


tf_case("reduce_mean_keepdims", lambda tf, x: tf.reduce_mean(x, axis=-1, keepdims=True))
tf_case("reduce_max", lambda tf, x: tf.reduce_max(x, axis=1))
tf_case("reduce_prod", lambda tf, x: tf.reduce_prod(x, axis=1))
tf_case("reduce_variance", lambda tf, x: tf.math.reduce_variance(x, axis=-1))
tf_case("reduce_std", lambda tf, x: tf.math.reduce_std(x, axis=1, keepdims=True))
tf_case("argmax", lambda tf, x: tf.cast(tf.argmax(x, axis=-1), "float32"))
tf_case("log", lambda tf, x: tf.math.log(x), positive=True)
tf_case("clip", lambda tf, x: tf.clip_by_value(x, -0.3, 0.5))
tf_case("stack", lambda tf, x, y: tf.stack([x, y], axis=1), inputs=2)
tf_case("matmul", lambda tf, x, y: tf.matmul(x, y, transpose_b=True), inputs=2)
tf_case("split", lambda tf, x: tf.split(x, 2, axis=-1)[1])
tf_case("softmax_axis", lambda tf, x: tf.nn.softmax(x, axis=1))
tf_case("add_mul_const", lambda tf, x: x * 2.0 + 1.0)
tf_case("rsub", lambda tf, x: 1.0 - x)
tf_case("div_tensors", lambda tf, x, y: x / (tf.abs(y) + 1.0), inputs=2)
tf_case("getitem", lambda tf, x: x[:, 1:, ::2])
tf_case("reshape_transpose", lambda tf, x: tf.transpose(tf.reshape(x, (-1, 2, 6)), (0, 2, 1)))
tf_case("concat", lambda tf, x, y: tf.concat([x, y], axis=1), inputs=2)
tf_case("expand_squeeze", lambda tf, x: tf.squeeze(tf.expand_dims(x, 1), axis=1))
tf_case("sqrt_square", lambda tf, x: tf.sqrt(tf.square(x) + 1.0))
tf_case("nn_ops", lambda tf, x: tf.nn.relu(x) + tf.nn.sigmoid(x) + tf.nn.gelu(x))
tf_case("maximum_const", lambda tf, x: tf.maximum(x, 0.2))
tf_case("l2_normalize", lambda tf, x: tf.math.l2_normalize(x, axis=-1))
tf_case("reduce_sum_all", lambda tf, x: tf.reduce_sum(x))
tf_case("cumsum", lambda tf, x: tf.cumsum(x, axis=1))
tf_case("tile", lambda tf, x: tf.tile(x, (1, 2, 1)))
tf_case("where", lambda tf, x: tf.where(x > 0, x, 0.1 * x))
tf_case("pow", lambda tf, x: tf.pow(x, 2.0))
tf_case("exp_neg", lambda tf, x: tf.exp(-x))
tf_case("logsumexp", lambda tf, x: tf.reduce_logsumexp(x, axis=-1))

# keras.applications at non-default settings: (name, class, kwargs, input shape, range, writers).
APPLICATIONS = [
    ("app_mobilenet_a050_max_75", "MobileNet", {"alpha": 0.5, "include_top": False, "pooling": "max"}, (75, 75, 3), (-1, 1), BOTH),
    ("app_mobilenetv2_a050_avg_96x128", "MobileNetV2", {"alpha": 0.5, "include_top": False, "pooling": "avg"}, (96, 128, 3), (-1, 1), BOTH),
    ("app_mobilenetv2_a130_classes10", "MobileNetV2", {"alpha": 1.3, "classes": 10}, (32, 32, 3), (-1, 1), BOTH),
    ("app_mobilenetv3small_min_noprep", "MobileNetV3Small", {"minimalistic": True, "include_preprocessing": False, "classes": 10,
                                                             "classifier_activation": None}, (48, 48, 3), (-1, 1), BOTH),
    ("app_mobilenetv3large_notop_avg", "MobileNetV3Large", {"alpha": 0.75, "include_top": False, "pooling": "avg"}, (64, 64, 3), (0, 255), BOTH),
    ("app_mobilenetv3small_top", "MobileNetV3Small", {"alpha": 1.0, "classes": 7}, (32, 48, 3), (0, 255), BOTH),
    ("app_efficientnetb1_max", "EfficientNetB1", {"include_top": False, "pooling": "max"}, (64, 64, 3), (0, 255), BOTH),
    ("app_efficientnetb2_classes10", "EfficientNetB2", {"classes": 10, "classifier_activation": None}, (64, 96, 3), (0, 255), BOTH),
    ("app_efficientnetv2b1_notop", "EfficientNetV2B1", {"include_top": False, "pooling": "avg"}, (48, 48, 3), (0, 255), BOTH),
    ("app_resnet101v2_avg", "ResNet101V2", {"include_top": False, "pooling": "avg"}, (32, 32, 3), (-1, 1), BOTH),
    ("app_resnet50_classes10_softmax", "ResNet50", {"classes": 10}, (40, 40, 3), (-1, 1), BOTH),
    ("app_densenet169_max", "DenseNet169", {"include_top": False, "pooling": "max"}, (32, 32, 3), (-1, 1), BOTH),
    ("app_vgg19_notop", "VGG19", {"include_top": False}, (48, 64, 3), (-1, 1), BOTH),
    ("app_xception_avg", "Xception", {"include_top": False, "pooling": "avg"}, (71, 71, 3), (-1, 1), BOTH),
    ("app_inceptionv3_classes10", "InceptionV3", {"classes": 10}, (75, 75, 3), (-1, 1), BOTH),
    ("app_convnexttiny_notop", "ConvNeXtTiny", {"include_top": False, "pooling": "avg"}, (32, 32, 3), (0, 255), BOTH),
]


# --- generation -----------------------------------------------------------------

class Env:
    def __init__(self, tag):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import numpy as np
        import tensorflow as tf
        self.np, self.tf, self.tag = np, tf, tag
        if tag == "keras3":
            import keras
            self.k, self.ops = keras, keras.ops
        else:
            import tf_keras
            self.k, self.ops = tf_keras, None
        self.L = self.k.layers


_envs = {}


def leaf_name(w):
    name = getattr(w, "path", None) or w.name
    return name.split("/")[-1].split(":")[0]


def randomize(model, rng):
    """Every float weight gets a new random value: statistics and offsets by
    their role, kernels their initial values times uniform(0.5, 1.5)."""
    import numpy as np
    for w in model.weights:
        if "float" not in str(getattr(w.dtype, "name", w.dtype)):
            continue
        leaf, shape = leaf_name(w), tuple(w.shape)
        old = np.asarray(w)
        if leaf in ("moving_mean", "mean"):
            value = rng.uniform(-0.3, 0.3, shape)
        elif leaf in ("moving_variance", "variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif leaf == "gamma":
            value = rng.uniform(0.6, 1.4, shape)
        elif not np.any(old):
            value = rng.uniform(-0.2, 0.2, shape)
        else:
            value = old * rng.uniform(0.5, 1.5, shape)
        w.assign(value.astype(np.float32))


def applications_model(E, name, rng):
    """A keras.applications model with calibrated statistics (see gen_application_models.py)."""
    _, cls, kwargs, shape, (low, high), _ = next(a for a in APPLICATIONS if a[0] == name)
    model = getattr(E.k.applications, cls)(weights=None, input_shape=shape, **kwargs)
    x = rng.uniform(low, high, (BATCH,) + shape).astype("float32")
    return model, [x], lambda: (apps.randomize(model, rng),
                                apps.calibrate_normalization(model, E.np.concatenate([x, rng.uniform(low, high, (6,) + shape).astype("float32")]), rng),
                                kwargs.get("include_top", True) and kwargs.get("classifier_activation", "softmax") is None
                                and apps.scale_head(model, x))


def generate(task):
    name, tag, out = task
    if tag not in _envs:
        _envs[tag] = Env(tag)
    E = _envs[tag]
    np = E.np
    stem = f"{name}_{tag}"
    seed = zlib.crc32(stem.encode())
    entry = {"name": name, "writer": tag, "stem": stem}
    start = time.time()
    try:
        E.k.utils.set_random_seed(seed % 2**31)
        rng = np.random.default_rng(seed)
        if name.startswith("app_"):
            model, xs, finish = applications_model(E, name, rng)
        else:
            build = next(c[2] for c in CASES if c[0] == name)
            made = build(E)
            model, xs = made if isinstance(made, tuple) else (made, None)
            if xs is None:
                xs = [rng.uniform(-1, 1, (BATCH,) + tuple(i.shape[1:])).astype("float32") for i in model.inputs]
            finish = lambda: randomize(model, rng)
        arch = f"{stem}.arch.keras" if tag == "keras3" else f"{stem}.arch.h5"
        model.save(out / arch)
        finish()
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        if isinstance(ys, dict):
            ys = [ys[n] for n in model.output_names]
        ys = [np.asarray(y, dtype=np.float32) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
        assert all(np.all(np.isfinite(y)) for y in ys), "non-finite prediction"
        for i, x in enumerate(xs):
            np.save(out / f"{stem}.in{i}.npy", x)
        for j, y in enumerate(ys):
            np.save(out / f"{stem}.out{j}.npy", y)
        files = apps.save_every_format(model, out, stem, tag)
        entry.update(files=files, arch=arch, inputs=len(xs), outputs=len(ys))
    except Exception as e:  # noqa: BLE001 - a case Keras itself cannot build is skipped
        entry["skip"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        if os.environ.get("SWEEP_DEBUG"):
            traceback.print_exc()
    entry["seconds"] = round(time.time() - start, 2)
    E.k.backend.clear_session()
    return entry


# --- checking -------------------------------------------------------------------

def check(cli, out, entry, kind):
    """Runs the CLI on one file of a case: ('PASS'|'FAIL', detail)."""
    import numpy as np
    stem = entry["stem"]
    path = out / entry["files"][kind]
    work = out / "work"
    model = path
    if kind in ("weights.h5", "weights_only.h5"):
        # tf-keras models go to .h5 (a .keras archive cannot hold tf-keras's hard_sigmoid),
        # unless they hold Keras 3 ops, which only a .keras archive can.
        for ext in (("h5", "keras") if entry["writer"] == "keras2" else ("keras",)):
            model = work / f"{stem}.from_weights.{ext}"
            r = subprocess.run([str(cli), "convert", str(path), str(model), "--model", str(out / entry["arch"])],
                               capture_output=True, text=True, timeout=600)
            if r.returncode == 0 or "can only be saved in a functional model of a .keras archive" not in r.stderr:
                break
        if r.returncode != 0:
            return "FAIL", "convert: " + (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
    worst = 0.0
    for j in range(entry["outputs"]):
        target = work / f"{stem}.{kind}.out{j}.npy"
        args = [str(cli), "predict", str(model), "-o", str(target), "--output-index", str(j)]
        for i in range(entry["inputs"]):
            args += ["-i", str(out / f"{stem}.in{i}.npy")]
        r = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            return "FAIL", (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        got, expected = np.load(target), np.load(out / f"{stem}.out{j}.npy")
        if got.shape != expected.shape:
            if got.size == expected.size and got.squeeze().shape == expected.squeeze().shape:
                got = got.reshape(expected.shape)
            else:
                return "FAIL", f"output {j}: shape {got.shape}, Keras {expected.shape}"
        err = float(np.max(np.abs(got - expected) / (1 + np.abs(expected)))) if expected.size else 0.0
        if not np.isfinite(err):
            return "FAIL", f"output {j}: non-finite values"
        worst = max(worst, err)
    return ("PASS" if worst <= TOLERANCE else "FAIL"), f"max error {worst:.2e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--cli", type=pathlib.Path, default=DEFAULT_CLI)
    parser.add_argument("--only", default="", help="comma-separated substrings of case names")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the files of a previous run")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    out = args.out.resolve()
    (out / "work").mkdir(parents=True, exist_ok=True)
    only = [s for s in args.only.split(",") if s]
    names = [(c[0], c[1]) for c in CASES] + [(a[0], a[5]) for a in APPLICATIONS]
    tasks = [(n, tag, out) for n, writers in names for tag in writers if not only or any(s in n for s in only)]
    start = time.time()
    manifest = out / "manifest.json"
    if args.skip_generate:
        entries = [e for e in json.loads(manifest.read_text()) if any(e["name"] == t[0] and e["writer"] == t[1] for t in tasks)]
    else:
        print(f"sweep: generating {len(tasks)} cases into {out}", flush=True)
        # Applications first: they take longest.
        tasks.sort(key=lambda t: (not t[0].startswith("app_"), t[1]))
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(args.jobs, 1),
                                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            entries = list(pool.map(generate, tasks))
        previous = json.loads(manifest.read_text()) if only and manifest.exists() else []
        merged = {(e["name"], e["writer"]): e for e in previous}
        merged.update({(e["name"], e["writer"]): e for e in entries})
        manifest.write_text(json.dumps(sorted(merged.values(), key=lambda e: (e["name"], e["writer"])), indent=1))
        print(f"sweep: generated in {time.time() - start:.0f}s", flush=True)
    if not args.cli.exists():
        sys.exit(f"{args.cli} is missing: run `make build`")
    checks = [(e, kind) for e in entries if "skip" not in e for kind in e["files"]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        outcomes = list(pool.map(lambda t: check(args.cli, out, *t), checks))
    results = []
    for e in sorted(entries, key=lambda e: (e["name"], e["writer"])):
        if "skip" in e:
            print(f"SKIP {e['stem']}: Keras: {e['skip']}")
            results.append({"case": e["stem"], "file": None, "status": "SKIP", "detail": e["skip"]})
    for (e, kind), (status, detail) in sorted(zip(checks, outcomes), key=lambda r: (r[0][0]["stem"], r[0][1])):
        print(f"{status} {e['stem']} [{kind}]: {detail}")
        results.append({"case": e["stem"], "file": kind, "status": status, "detail": detail})
    (out / "results.json").write_text(json.dumps(results, indent=1))
    counts = {s: sum(r["status"] == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    failed = sorted({r["case"] for r in results if r["status"] == "FAIL"})
    print(f"sweep: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped "
          f"({len(failed)} failing cases) in {time.time() - start:.0f}s")
    if failed:
        print("failing cases: " + " ".join(failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
