"""keras_delta (tools/keras_delta): DeltaActivation in Keras 3 and tf-keras.

(a) the two front ends agree bit for bit; (b) the contract (DELTA_CONTRACT.md)
on tiny inputs derived by hand; (c) delta models save, load, predict and keep
training in both Keras versions; (d) one SGD step under MirroredStrategy over
two logical CPUs equals the single-device step (in a subprocess, see
delta_mirrored_step.py). Set KERAS_DELTA_MIRRORED_MODEL to a .keras file
(a Swift-exported delta model, say) to run (d) on it instead of the model
built here.
"""
import json
import os
import pathlib
import subprocess
import sys
import zipfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))  # this checkout's package, installed or not

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import tf_keras  # noqa: E402

import keras_delta  # noqa: E402

K3 = keras_delta.DeltaActivation
TFK = keras_delta.tf_keras.DeltaActivation
CONFIG_KEYS = {"name", "trainable", "dtype", "threshold_init", "granularity", "trainable_threshold",
               "sparsity_weight", "fan_out", "clip_length", "threshold_gradient"}


def run(layer, x, threshold, training=True, projection=None):
    """Output, loss, and the gradients of sum(y·P) and of the loss w.r.t. x and the threshold."""
    xv = tf.Variable(np.asarray(x, np.float32))
    layer(xv, training=training)
    layer.set_weights([np.asarray(threshold, np.float32)])
    with tf.GradientTape(persistent=True) as tape:
        y = layer(xv, training=training)
        p = np.ones(y.shape, np.float32) if projection is None else projection
        target = tf.reduce_sum(y * p)
        loss = tf.add_n(layer.losses) if layer.losses else None
    w = layer.weights[0]
    zero = lambda g, like: np.zeros(like.shape, np.float32) if g is None else tf.convert_to_tensor(g).numpy()
    return {
        "y": y.numpy(),
        "losses": len(layer.losses),
        "loss": None if loss is None else float(loss),
        "gx": tape.gradient(target, xv).numpy(),
        "gt": zero(tape.gradient(target, w), w),
        "gx_loss": None if loss is None else zero(tape.gradient(loss, xv), xv),
        "gt_loss": None if loss is None else zero(tape.gradient(loss, w), w),
    }


# (a) Keras 3 and tf-keras: the same numbers, bit for bit.
@pytest.mark.parametrize("mode", ["lsq", "paper", "hybrid"])
@pytest.mark.parametrize("layout", ["frames", "time"])
@pytest.mark.parametrize("granularity", ["channel", "layer", "neuron"])
def test_keras3_and_tf_keras_agree(granularity, layout, mode):
    rng = np.random.default_rng(zlib.crc32(f"{granularity}/{layout}/{mode}".encode()))
    shape, clip = ((6, 3, 3, 4), 3) if layout == "frames" else ((2, 3, 3, 3, 4), None)
    tshape = {"channel": (4,), "layer": (1,), "neuron": shape[1:] if clip else shape[2:]}[granularity]
    threshold = rng.uniform(0.05, 0.5, tshape) * rng.choice([-1, 1], tshape)
    x = rng.standard_normal(shape)
    p = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    config = dict(granularity=granularity, clip_length=clip, threshold_gradient=mode, sparsity_weight=0.5,
                  fan_out=27.0, name="delta")
    for training in (True, False):
        a = run(K3(**config), x, threshold, training, p)
        b = run(TFK(**config), x, threshold, training, p)
        assert a["losses"] == b["losses"] == (1 if training else 0)
        for key in a:
            if a[key] is None:
                assert b[key] is None, key
            else:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{key}, training={training}")
    assert K3(**config).get_config().keys() == TFK(**config).get_config().keys() == CONFIG_KEYS


# (b) The contract, derived by hand.
@pytest.mark.parametrize("cls", [K3, TFK])
def test_rounds_half_to_even(cls):
    # q = 0.5; x/q = -2.5 -1.5 -0.5 0.5 1.5 2.5 3.5 -> half to even -2 -2 -0 0 2 2 4 -> y = q·r.
    x = np.array([[[-1.25], [-0.75], [-0.25], [0.25], [0.75], [1.25], [1.75]]], np.float32)  # [1, 7, 1]
    r = run(cls(granularity="layer", name="d"), x, [0.5], training=False)
    np.testing.assert_array_equal(r["y"].ravel(), [-1, -1, 0, 0, 1, 1, 2])
    assert r["losses"] == 0


@pytest.mark.parametrize("cls", [K3, TFK])
def test_clamp_and_threshold_sign(cls):
    # Channels t = 0, 1e-8, 1e-6, -1e-6, 2e-6, -2e-6; x = 3.3e-6 in each (inference, lsq, target sum(y)).
    # q = max(|t|, 1e-6) = 1e-6 1e-6 1e-6 1e-6 2e-6 2e-6; x/q = 3.3 3.3 3.3 3.3 1.65 1.65; r = 3 3 3 3 2 2;
    # y = 3e-6 3e-6 3e-6 3e-6 4e-6 4e-6.
    # dy/dq (lsq) = r - x/q = -0.3 (x4), 0.35 (x2); dq/dt = 0 below the clamp (maximum's gradient goes to the
    # constant), sign(t) at and above it (ties go to |t|): dt = 0, 0, -0.3, +0.3, 0.35, -0.35.
    t = np.array([0, 1e-8, 1e-6, -1e-6, 2e-6, -2e-6], np.float32)
    x = np.full((1, 1, 6), 3.3e-6, np.float32)
    r = run(cls(name="d"), x, t, training=False)
    np.testing.assert_allclose(r["y"].ravel(), [3e-6] * 4 + [4e-6] * 2, rtol=1e-6)
    np.testing.assert_allclose(r["gt"], [0, 0, -0.3, 0.3, 0.35, -0.35], rtol=1e-5, atol=1e-6)
    assert r["gt"][0] == 0 and r["gt"][1] == 0


@pytest.mark.parametrize("cls", [K3, TFK])
@pytest.mark.parametrize("mode", ["lsq", "paper", "hybrid"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_gradients_by_mode(cls, mode, sign):
    # One clip of 2 frames, one channel ([1, 2, 1]), t = ±1 so q = 1; x = 0.2, 1.7 -> r = 0, 2, y = 0, 2.
    # Loss: c·mean|D| with c = sparsity_weight·fan_out = 0.5·3 = 1.5, D = 2 -> loss = 3.0.
    # Input (straight through): output path d sum(y)/dx = 1, 1; loss path dloss/dy = c·sign(D)·(-1, +1) = -1.5, 1.5.
    # q, output path (target sum(y)): lsq Σ(r - x/q) = -0.2 + 0.3 = 0.1; paper Σ(-r) = -2.
    # q, loss path: lsq -1.5·(0 - 0.2) + 1.5·(2 - 1.7) = 0.75; paper -1.5·(-0) + 1.5·(-2) = -3.
    # hybrid: output path as lsq (0.1), loss path as paper (-3). dt = sign(t)·dq.
    x = np.array([[[0.2], [1.7]]], np.float32)
    r = run(cls(sparsity_weight=0.5, fan_out=3.0, threshold_gradient=mode, name="d"), x, [sign])
    np.testing.assert_array_equal(r["y"].ravel(), [0, 2])
    assert r["losses"] == 1 and r["loss"] == pytest.approx(3.0, rel=1e-7)
    np.testing.assert_array_equal(r["gx"].ravel(), [1, 1])
    np.testing.assert_array_equal(r["gx_loss"].ravel(), [-1.5, 1.5])
    out_path = {"lsq": 0.1, "paper": -2.0, "hybrid": 0.1}[mode]
    loss_path = {"lsq": 0.75, "paper": -3.0, "hybrid": -3.0}[mode]
    np.testing.assert_allclose(r["gt"], [sign * out_path], rtol=1e-5)
    np.testing.assert_allclose(r["gt_loss"], [sign * loss_path], rtol=1e-5)


@pytest.mark.parametrize("cls", [K3, TFK])
def test_loss_frames_as_batch(cls):
    # clip_length 3, batch 6 = 2 clips, q = 1, integer x so y = x: clip 1 = 0 1 1, clip 2 = 2 2 0.
    # D = (1, 0), (0, -2); the 1 -> 2 step between clips is not a delta. mean|D| = 3/4;
    # loss = 0.5 · 27 · 0.75 = 10.125. Inference or clip_length 1: no loss at all.
    x = np.array([0, 1, 1, 2, 2, 0], np.float32).reshape(6, 1)
    r = run(cls(clip_length=3, sparsity_weight=0.5, fan_out=27.0, name="d"), x, [1.0])
    assert r["losses"] == 1 and r["loss"] == 10.125
    assert run(cls(clip_length=3, sparsity_weight=0.5, fan_out=27.0, name="d"), x, [1.0], training=False)["losses"] == 0
    assert run(cls(clip_length=1, sparsity_weight=0.5, fan_out=27.0, name="d"), x, [1.0])["losses"] == 0
    # The explicit time axis with one frame adds none either.
    assert run(cls(sparsity_weight=0.5, name="d"), x.reshape(6, 1, 1), [1.0])["losses"] == 0


@pytest.mark.parametrize("cls", [K3, TFK])
def test_bad_batch_is_an_error(cls):
    layer = cls(clip_length=4, name="d7")
    with pytest.raises(ValueError, match="DeltaActivation 'd7': batch of 7 frames is not a multiple of clip_length 4"):
        layer(tf.zeros([7, 3]), training=True)
    layer(tf.zeros([8, 3]), training=True)  # whole clips: fine
    layer(tf.zeros([7, 3]))  # inference reads no clips: any batch
    traced = tf.function(lambda x: layer(x, training=True), input_signature=[tf.TensorSpec([None, 3])])
    traced(tf.zeros([8, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a multiple of clip_length 4"):
        traced(tf.zeros([6, 3]))


@pytest.mark.parametrize("cls", [K3, TFK])
def test_threshold_shapes_and_config(cls):
    def shape(x_shape, **config):
        layer = cls(**config)
        layer.build(x_shape)
        return tuple(layer.weights[0].shape)
    assert shape((None, 5, 5, 3)) == (3,)
    assert shape((None, 5, 5, 3), granularity="layer") == (1,)
    assert shape((None, 5, 5, 3), granularity="neuron", clip_length=2) == (5, 5, 3)
    assert shape((None, 4, 5, 5, 3), granularity="neuron") == (5, 5, 3)
    with pytest.raises(ValueError, match="granularity"):
        cls(granularity="pixel")
    with pytest.raises(ValueError, match="threshold_gradient"):
        cls(threshold_gradient="ste")
    with pytest.raises(ValueError, match="neuron"):
        cls(granularity="neuron").build((None, 3))
    layer = cls(threshold_init=0.3, granularity="neuron", trainable_threshold=False, sparsity_weight=0.5,
                fan_out=27.0, clip_length=8, threshold_gradient="hybrid", name="d")
    layer.build((None, 2, 2))
    assert not layer.trainable_weights and np.all(layer.get_weights()[0] == np.float32(0.3))
    config = layer.get_config()
    assert set(config) == CONFIG_KEYS
    assert {k: config[k] for k in CONFIG_KEYS - {"name", "trainable", "dtype"}} == dict(
        threshold_init=0.3, granularity="neuron", trainable_threshold=False, sparsity_weight=0.5, fan_out=27.0,
        clip_length=8, threshold_gradient="hybrid")
    assert cls.from_config(config).get_config() == config
    assert cls().get_config()["clip_length"] is None and cls().compute_output_shape((None, 4, 3)) == (None, 4, 3)


# (c) Save, load, predict, keep training.
def delta_cnn(k, delta, clip=2):
    """Input delta, Conv2D + delta (frames as batch), Dense: a small per-frame classifier."""
    inp = k.Input((6, 6, 3))
    h = delta(threshold_init=0.05, clip_length=clip, sparsity_weight=0.5, fan_out=27.0, threshold_gradient="hybrid",
              name="delta_in")(inp)
    h = k.layers.Conv2D(4, 3, activation="relu", name="conv")(h)
    h = delta(threshold_init=0.1, granularity="neuron", clip_length=clip, sparsity_weight=0.5, fan_out=12.0,
              name="delta_conv")(h)
    h = k.layers.Flatten(name="flatten")(h)
    return k.Model(inp, k.layers.Dense(3, name="dense")(h))


def clips(n_frames=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n_frames, 6, 6, 3)).astype(np.float32), rng.integers(0, 3, n_frames)


def layer_entries(config):
    return [l for l in config["config"]["layers"] if "DeltaActivation" in l["class_name"]]


def check_reload_and_training(k, model, loaded, x, y):
    np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0), loaded.predict(x, batch_size=4, verbose=0))
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.get_layer("delta_conv").get_config() == model.get_layer("delta_conv").get_config()
    before = loaded.get_layer("delta_in").get_weights()[0].copy()
    loaded.compile(optimizer=k.optimizers.SGD(0.01), loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(before, loaded.get_layer("delta_in").get_weights()[0])


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_keras3_save_load_train(tmp_path, ext):
    x, y = clips()
    model = delta_cnn(keras, K3)
    model.get_layer("delta_conv").set_weights([np.random.default_rng(1).uniform(0.05, 0.3, (4, 4, 4))])
    path = tmp_path / f"delta.{ext}"
    model.save(path)
    if ext == "keras":
        entries = layer_entries(json.loads(zipfile.ZipFile(path).read("config.json")))
        assert [(e["class_name"], e["registered_name"]) for e in entries] == [
            ("DeltaActivation", "keras_delta>DeltaActivation")] * 2
    else:
        with h5py.File(path) as f:
            entries = layer_entries(json.loads(f.attrs["model_config"]))
        assert [e["class_name"] for e in entries] == ["keras_delta>DeltaActivation"] * 2
    assert all(set(e["config"]) == CONFIG_KEYS for e in entries)
    check_reload_and_training(keras, model, keras.models.load_model(path), x, y)


def test_tf_keras_save_load_train(tmp_path):
    x, y = clips()
    model = delta_cnn(tf_keras, TFK)
    path = tmp_path / "delta.h5"
    model.save(path)
    with h5py.File(path) as f:
        entries = layer_entries(json.loads(f.attrs["model_config"]))
    assert [e["class_name"] for e in entries] == ["keras_delta>DeltaActivation"] * 2
    assert all(set(e["config"]) == CONFIG_KEYS for e in entries)
    loaded = tf_keras.models.load_model(path)
    # Keras 3 reads the tf-keras file too (the legacy class_name) and predicts the same.
    again = keras.models.load_model(path)
    assert isinstance(again.get_layer("delta_conv"), K3)
    np.testing.assert_array_equal(again.predict(x, batch_size=4, verbose=0), model.predict(x, batch_size=4, verbose=0))
    check_reload_and_training(tf_keras, model, loaded, x, y)


def test_fit_adds_the_delta_loss():
    # Frozen weights (lr 0): the loss fit reports is the task loss plus both delta losses of the batch.
    x, y = clips()
    model = delta_cnn(keras, K3)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    reported = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    logits = model(x, training=True)
    delta = float(tf.add_n(model.losses))
    task = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits))
    assert delta > 0 and reported == pytest.approx(task + delta, rel=1e-6)


# (d) MirroredStrategy over two logical CPUs against one device.
def test_mirrored_strategy_step_equals_single_device(tmp_path):
    model_path = os.environ.get("KERAS_DELTA_MIRRORED_MODEL")
    if not model_path:
        model = delta_cnn(keras, K3)
        model_path = tmp_path / "delta_cnn.keras"
        model.save(model_path)
    out = tmp_path / "step.npz"
    script = pathlib.Path(__file__).with_name("delta_mirrored_step.py")
    done = subprocess.run([sys.executable, str(script), str(model_path), str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    r = np.load(out)
    clip, batch = int(r["clip_length"]), int(r["batch"])
    assert int(r["replicas"]) == 2
    # Each replica got whole clips: the first and the second half of the global batch.
    half = batch // 2
    assert half % clip == 0
    np.testing.assert_array_equal(r["replica0_x"], r["x"][:half])
    np.testing.assert_array_equal(r["replica1_x"], r["x"][half:])
    assert float(r["loss_mirrored"]) == pytest.approx(float(r["loss_single"]), rel=1e-5)
    names = [k.split(":", 1)[1] for k in r.files if k.startswith("single:")]
    assert any(n.endswith("threshold") for n in names)
    for name in names:
        single, mirrored, before = r[f"single:{name}"], r[f"mirrored:{name}"], r[f"before:{name}"]
        np.testing.assert_allclose(mirrored, single, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(single).max()),
                                   err_msg=name)
        if name.endswith("threshold"):
            assert not np.array_equal(single, before), f"{name} did not train"
