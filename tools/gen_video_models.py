"""Video models saved by real Keras, with an input clip and Keras's
prediction: the fixtures of Tests/KerasIOTests/VideoModelTests.swift.

Small enough to commit (Tests/KerasIOTests/Fixtures/video/, under 1 MB in
all). Each case is written by Keras 3 as `.keras` and `.h5` and by tf-keras
as `.h5`:

  <case>_keras3.keras, <case>_keras3.h5, <case>_keras2.h5
  <case>_<tag>.in0.npy, <case>_<tag>.out0.npy    a clip batch and Keras's prediction
  manifest.json                                   cases, files, writer versions

Every weight is random (variances positive), so each one shows in the output.

Run: .venv/bin/python tools/gen_video_models.py
"""
import json
import os
import pathlib
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tf_keras

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/KerasIOTests/Fixtures/video"


def conv3d_net(k):
    """Conv3D stack: same/valid padding, strides, pooling, padding and cropping in 3-D."""
    L = k.layers
    x = k.Input((6, 12, 12, 3), name="clip")
    h = L.Conv3D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    h = L.BatchNormalization(name="bn_a")(h)
    h = L.MaxPooling3D((1, 2, 2), name="pool_a")(h)
    h = L.ZeroPadding3D((0, 1, 1))(h)
    h = L.Conv3D(6, (3, 3, 3), strides=(1, 2, 2), padding="valid", activation="elu", name="conv_b")(h)
    h = L.Cropping3D(((1, 0), (0, 1), (1, 0)))(h)
    h = L.AveragePooling3D((2, 1, 1), padding="same")(h)
    # (2+1)D factorized convolution, as in R(2+1)D.
    h = L.Conv3D(5, (1, 3, 3), padding="same", name="spatial")(h)
    h = L.Conv3D(5, (3, 1, 1), padding="same", activation="tanh", name="temporal")(h)
    h = L.GlobalAveragePooling3D()(h)
    return k.Model(x, L.Dense(4, name="logits")(h), name="conv3d_net")


def td_cnn_lstm(k):
    """Per-frame CNN under TimeDistributed, then stacked LSTMs."""
    L = k.layers
    x = k.Input((5, 10, 10, 3), name="frames")
    h = L.TimeDistributed(L.Conv2D(4, 3, activation="relu"), name="td_conv")(x)
    h = L.TimeDistributed(L.BatchNormalization(), name="td_bn")(h)
    h = L.TimeDistributed(L.MaxPooling2D(2), name="td_pool")(h)
    h = L.TimeDistributed(L.SeparableConv2D(5, 3, padding="same"), name="td_sep")(h)
    h = L.TimeDistributed(L.GlobalAveragePooling2D(), name="td_gap")(h)
    h = L.LSTM(6, return_sequences=True, name="lstm_a")(h)
    h = L.LSTM(4, name="lstm_b")(h)
    return k.Model(x, L.Dense(3, activation="softmax", name="probs")(h), name="td_cnn_lstm")


def td_cnn_gru(k):
    """Per-frame CNN flattened per frame, then GRUs with both bias layouts."""
    L = k.layers
    x = k.Input((4, 8, 8, 2), name="frames")
    h = L.TimeDistributed(L.Conv2D(3, 3, strides=2, padding="same", activation="relu"), name="td_conv")(x)
    h = L.TimeDistributed(L.Flatten(), name="td_flat")(h)
    h = L.TimeDistributed(L.Dense(8, activation="tanh"), name="td_dense")(h)
    h = L.GRU(5, return_sequences=True, name="gru_after")(h)
    h = L.GRU(4, reset_after=False, go_backwards=True, name="gru_before")(h)
    return k.Model(x, L.Dense(3, name="logits")(h), name="td_cnn_gru")


def bidirectional(k):
    """Bidirectional RNNs of every kind and merge mode over per-frame features."""
    L = k.layers
    x = k.Input((7, 6), name="features")
    h = L.TimeDistributed(L.Dense(8, activation="relu"), name="td_embed")(x)
    h = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="concat", name="bi_lstm")(h)
    h = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum", name="bi_gru")(h)
    h = L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="mul", name="bi_rnn")(h)
    h = L.Bidirectional(L.LSTM(3), merge_mode="ave", name="bi_last")(h)
    return k.Model(x, L.Dense(2, name="logits")(h), name="bidirectional")


def conv_lstm(k):
    """ConvLSTM2D over frames: sequences out, then the last state."""
    L = k.layers
    x = k.Input((4, 8, 8, 2), name="frames")
    h = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, name="convlstm_a")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.ConvLSTM2D(2, 3, strides=2, padding="valid", name="convlstm_b")(h)
    h = L.Flatten()(h)
    return k.Model(x, L.Dense(3, name="logits")(h), name="conv_lstm")


def td_nested_sequential(k):
    """A per-frame encoder built as its own Sequential model, under TimeDistributed."""
    L = k.layers
    frame = k.Sequential([k.Input((10, 10, 3)), L.Conv2D(4, 3, strides=2, activation="relu"), L.BatchNormalization(),
                          L.Flatten(), L.Dense(6, activation="relu")], name="frame_encoder")
    x = k.Input((4, 10, 10, 3), name="frames")
    h = L.TimeDistributed(frame, name="td_frames")(x)
    h = L.LSTM(5, name="lstm")(h)
    return k.Model(x, L.Dense(3, name="logits")(h), name="td_nested_sequential")


def td_application(k):
    """A keras.applications backbone (a nested Functional model) per frame, then a Bidirectional GRU."""
    L = k.layers
    backbone = k.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None,
                                          pooling="avg")
    x = k.Input((3, 32, 32, 3), name="frames")
    h = L.TimeDistributed(backbone, name="td_backbone")(x)
    h = L.Bidirectional(L.GRU(4), name="bi_gru")(h)
    return k.Model(x, L.Dense(3, name="logits")(h), name="td_application")


CASES = {
    "conv3d_net": (conv3d_net, (2, 6, 12, 12, 3)),
    "td_cnn_lstm": (td_cnn_lstm, (2, 5, 10, 10, 3)),
    "td_cnn_gru": (td_cnn_gru, (2, 4, 8, 8, 2)),
    "bidirectional": (bidirectional, (3, 7, 6)),
    "conv_lstm": (conv_lstm, (2, 4, 8, 8, 2)),
    "td_nested_sequential": (td_nested_sequential, (2, 4, 10, 10, 3)),
    "td_application": (td_application, (2, 3, 32, 32, 3)),
}


def randomize(model, rng):
    for w in model.weights:
        name = (getattr(w, "path", None) or w.name).split("/")[-1].split(":")[0]
        shape = tuple(w.shape)
        value = rng.uniform(0.5, 1.5, shape) if "variance" in name else rng.uniform(-0.6, 0.6, shape)
        w.assign(value.astype(np.float32))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        f.unlink()
    cases = []
    for name, (build, shape) in CASES.items():
        for k, tag in ((keras, "keras3"), (tf_keras, "keras2")):
            stem = f"{name}_{tag}"
            rng = np.random.default_rng(zlib.crc32(stem.encode()))
            k.utils.set_random_seed(1)
            model = build(k)
            randomize(model, rng)
            x = rng.uniform(-1, 1, shape).astype(np.float32)
            y = np.asarray(model(x, training=False))
            np.save(OUT / f"{stem}.in0.npy", x)
            np.save(OUT / f"{stem}.out0.npy", y)
            files = {"h5": f"{stem}.h5"}
            model.save(OUT / files["h5"])
            if k is keras:
                files["keras"] = f"{stem}.keras"
                model.save(OUT / files["keras"])
            cases.append({"name": stem, "writer": tag, "keras_version": k.__version__, "files": files,
                          "input": f"{stem}.in0.npy", "output": f"{stem}.out0.npy"})
            k.backend.clear_session()
    (OUT / "manifest.json").write_text(json.dumps({"generator": "tools/gen_video_models.py", "cases": cases}, indent=1))
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"gen_video_models: {len(cases)} cases, {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()
