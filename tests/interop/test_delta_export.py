"""Delta models between Swift and Keras, through the keras-delta CLI.

- `keras-delta deltaize` of a Keras-written CNN writes `.keras` and `.h5`
  files that Keras 3 and tf-keras load after `import keras_delta`; both
  predict what Swift predicts, and keep training (thresholds included); a
  Swift-written `.weights.h5` loads into Keras 3's copy of the model.
- The Swift-exported `.keras` trains under `tf.distribute.MirroredStrategy`
  over two logical CPUs exactly as on one device (delta_mirrored_step.py),
  with BatchNormalization frozen: in training mode it normalizes each
  replica's share of the batch on its own, as in any Keras model.
- A delta model written by Keras loads in Swift and predicts the same.

Needs the release binary (`make test` builds it first)."""
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import pytest

from test_cli import cli

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A plain Keras 3 CNN with non-trivial weights, and Swift's deltaized copies of it."""
    import keras
    d = tmp_path_factory.mktemp("delta_export")
    keras.utils.set_random_seed(5)
    inp = keras.Input((8, 8, 3), name="frames")
    h = keras.layers.Conv2D(6, 3, padding="same", name="conv1")(inp)
    h = keras.layers.BatchNormalization(name="bn1")(h)
    h = keras.layers.ReLU(name="relu1")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    model = keras.Model(inp, keras.layers.Dense(4, name="logits")(h))
    rng = np.random.default_rng(5)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in w.path
                       else rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.weights])
    plain = d / "plain.h5"
    model.save(plain)
    x = rng.uniform(0, 1, (8, 8, 8, 3)).astype("float32")
    np.save(d / "x.npy", x)
    for ext in ("keras", "h5"):
        r = cli("deltaize", plain, d / f"delta.{ext}", "--threshold", "0.05", "--clip-length", "2",
                "--sparsity-weight", "0.01", "--threshold-gradient", "hybrid")
        assert r.returncode == 0, r.stderr
        r = cli("predict", d / f"delta.{ext}", "-i", d / "x.npy", "-o", d / f"swift_{ext}.npy", "--batch-size", "8")
        assert r.returncode == 0, r.stderr
    return d, x


def swift_prediction(d, ext):
    return np.load(d / f"swift_{ext}.npy")


def check_training(model, x):
    """One epoch of SGD on clips of 2 frames: finite loss, every threshold moves."""
    import keras
    before = {w.path: w.numpy().copy() for w in model.weights if w.path.endswith("threshold")}
    assert len(before) == 3, before.keys()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, np.arange(8) % 4, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for w in model.weights:
        if w.path in before:
            assert not np.array_equal(w.numpy(), before[w.path]), f"{w.path} did not train"


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_keras3_loads_predicts_and_trains(exported, ext):
    import keras
    import keras_delta  # noqa: F401  (registers keras_delta>DeltaActivation)
    d, x = exported
    model = keras.models.load_model(d / f"delta.{ext}", compile=False)
    deltas = [l for l in model.layers if type(l).__name__ == "DeltaActivation"]
    assert [l.name for l in deltas] == ["frames_delta", "relu1_delta", "conv2_delta"]
    assert [l.fan_out for l in deltas] == [54.0, 18.0, 1.0]
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), swift_prediction(d, ext), rtol=1e-4, atol=1e-4)
    check_training(model, x)


def test_keras3_loads_swift_weights_file(exported):
    """`keras-delta convert` to `.weights.h5`: Keras 3 loads it into the architecture and predicts what Swift does."""
    import keras
    import keras_delta  # noqa: F401
    d, x = exported
    r = cli("convert", d / "delta.keras", d / "delta.weights.h5")
    assert r.returncode == 0, r.stderr
    model = keras.models.load_model(d / "delta.keras", compile=False)
    for w in model.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    model.load_weights(d / "delta.weights.h5")
    assert sum(w.path.endswith("threshold") for w in model.weights) == 3
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), swift_prediction(d, "keras"), rtol=1e-4, atol=1e-4)


def test_tf_keras_loads_predicts_and_trains(exported):
    import tf_keras
    import keras_delta  # noqa: F401
    d, x = exported
    model = tf_keras.models.load_model(d / "delta.h5", compile=False)
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), swift_prediction(d, "h5"), rtol=1e-4, atol=1e-4)
    before = {w.name: w.numpy().copy() for w in model.weights if "threshold" in w.name}
    assert len(before) == 3
    model.compile(optimizer=tf_keras.optimizers.SGD(0.1),
                  loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, np.arange(8) % 4, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(w.numpy(), before[w.name]) for w in model.weights if w.name in before)


def test_swift_export_trains_under_mirrored_strategy(exported, tmp_path):
    d, _ = exported
    out = tmp_path / "step.npz"
    done = subprocess.run([sys.executable, str(HERE / "delta_mirrored_step.py"), str(d / "delta.keras"), str(out),
                           "--freeze-batchnorm"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    r = np.load(out)
    assert int(r["replicas"]) == 2 and int(r["batch"]) % (2 * int(r["clip_length"])) == 0
    assert float(r["loss_mirrored"]) == pytest.approx(float(r["loss_single"]), rel=1e-5)
    names = [k.split(":", 1)[1] for k in r.files if k.startswith("single:")]
    assert sum(n.endswith("threshold") for n in names) == 3
    for name in names:
        single, mirrored = r[f"single:{name}"], r[f"mirrored:{name}"]
        np.testing.assert_allclose(mirrored, single, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(single).max()), err_msg=name)


def test_keras_written_delta_model_loads_in_swift(tmp_path):
    import keras
    import keras_delta
    keras.utils.set_random_seed(2)
    inp = keras.Input((6, 6, 3))
    h = keras_delta.DeltaActivation(threshold_init=0.05, clip_length=2, name="delta_in")(inp)
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(h)
    h = keras_delta.DeltaActivation(threshold_init=0.1, granularity="neuron", clip_length=2, name="delta_conv")(h)
    model = keras.Model(inp, keras.layers.Dense(3, name="dense")(keras.layers.Flatten()(h)))
    x = np.random.default_rng(2).uniform(0, 1, (4, 6, 6, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    expected = model.predict(x, verbose=0)
    for ext in ("keras", "h5"):
        model.save(tmp_path / f"m.{ext}")
        r = cli("predict", tmp_path / f"m.{ext}", "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
        assert r.returncode == 0, r.stderr
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-5, err_msg=ext)


def test_nested_pretrained_base_is_deltaized_inside(tmp_path):
    """A transfer-learning model (a MobileNetV2 base nested in a Sequential, as
    Keras users build them): `deltaize` inlines the base, so delta layers go
    after its activations; Keras 3 loads the result and predicts what Swift
    does, and what the original predicts at a tiny threshold."""
    import keras
    import keras_delta  # noqa: F401
    keras.utils.set_random_seed(7)
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    model = keras.Sequential([keras.Input((32, 32, 3), name="frames"), base,
                              keras.layers.GlobalAveragePooling2D(name="gap"), keras.layers.Dense(3, name="logits")])
    rng = np.random.default_rng(7)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in w.path
                       else rng.uniform(-0.3, 0.3, w.shape).astype("float32") for w in model.weights])
    model.save(tmp_path / "transfer.h5")
    x = rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    r = cli("deltaize", tmp_path / "transfer.h5", tmp_path / "delta.keras", "--threshold", "1e-6", "--clip-length", "2")
    assert r.returncode == 0, r.stderr
    assert f"inlined the nested model '{base.name}'" in r.stdout
    r = cli("predict", tmp_path / "delta.keras", "-i", tmp_path / "x.npy", "-o", tmp_path / "swift.npy")
    assert r.returncode == 0, r.stderr
    delta = keras.models.load_model(tmp_path / "delta.keras", compile=False)
    deltas = [l.name for l in delta.layers if type(l).__name__ == "DeltaActivation"]
    assert "frames_delta" in deltas and "block_16_project_BN_delta" not in deltas and len(deltas) >= 30, deltas
    swift = np.load(tmp_path / "swift.npy")
    np.testing.assert_allclose(delta.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)   # steps of 1e-6: 1.3e-6 apart here


def test_mac_input_placement_loads_in_keras(tmp_path):
    """`deltaize --placement mac-inputs` of an EfficientNetB0 also quantizes
    the residual sums and the squeeze-and-excitation products; Keras 3 loads
    the result and predicts what Swift does, and what the original predicts
    at a tiny threshold. An unknown placement is one line and exit code 2."""
    import keras
    import keras_delta  # noqa: F401
    keras.utils.set_random_seed(8)
    model = keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=3)
    rng = np.random.default_rng(8)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.6, 1.4, c), rng.uniform(-0.2, 0.2, c),
                               rng.uniform(-0.2, 0.2, c), rng.uniform(0.5, 1.5, c)])
    model.save(tmp_path / "effnet.keras")
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    r = cli("deltaize", tmp_path / "effnet.keras", tmp_path / "delta.keras", "--threshold", "1e-6", "--clip-length", "2",
            "--placement", "mac-inputs")
    assert r.returncode == 0, r.stderr
    r = cli("predict", tmp_path / "delta.keras", "-i", tmp_path / "x.npy", "-o", tmp_path / "swift.npy")
    assert r.returncode == 0, r.stderr
    delta = keras.models.load_model(tmp_path / "delta.keras", compile=False)
    deltas = {l.name for l in delta.layers if type(l).__name__ == "DeltaActivation"}
    assert {"block2b_add_delta", "block1a_se_excite_delta", "block1a_project_bn_delta"} <= deltas, sorted(deltas)
    swift = np.load(tmp_path / "swift.npy")
    np.testing.assert_allclose(delta.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
    r = cli("deltaize", tmp_path / "effnet.keras", tmp_path / "bad.keras", "--placement", "everywhere")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--placement must be" in r.stderr, r.stderr
    assert not (tmp_path / "bad.keras").exists()


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("rank", [2, 1])
def test_mac_input_placement_splits_separable_convolutions(tmp_path, ext, rank):
    """At `--placement mac-inputs`, `deltaize` splits a SeparableConv2D (as
    Xception's, followed by batch normalization) or a SeparableConv1D into
    its DepthwiseConv2D/1D `<name>_depthwise` and a one-tap Conv2D/1D with
    its name, with a delta layer between them; Keras 3 loads the result
    (tf-keras the `.h5` too), which holds the original's weights, and
    predicts what Swift does and, at a tiny threshold, what the original
    predicts."""
    import keras
    import keras_delta  # noqa: F401
    L = keras.layers
    conv, separable, pool = ((L.Conv2D, L.SeparableConv2D, L.GlobalAveragePooling2D) if rank == 2
                             else (L.Conv1D, L.SeparableConv1D, L.GlobalAveragePooling1D))
    keras.utils.set_random_seed(9)
    inp = keras.Input((12,) * rank + (3,), name="frames")
    h = conv(8, 3, activation="relu", name="conv")(inp)
    h = separable(16, 3, strides=2, padding="same", depth_multiplier=2, name="sep")(h)
    h = L.BatchNormalization(name="sep_bn")(h)
    h = L.ReLU(name="sep_act")(h)
    model = keras.Model(inp, L.Dense(3, name="logits")(pool(name="gap")(h)))
    rng = np.random.default_rng(9)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in w.path
                       else rng.uniform(-0.4, 0.4, w.shape).astype("float32") for w in model.weights])
    model.save(tmp_path / "sep.keras")
    x = rng.uniform(0, 1, (4,) + (12,) * rank + (3,)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    r = cli("deltaize", tmp_path / "sep.keras", tmp_path / f"delta.{ext}", "--threshold", "1e-6", "--clip-length", "2",
            "--placement", "mac-inputs")
    assert r.returncode == 0, r.stderr
    r = cli("predict", tmp_path / f"delta.{ext}", "-i", tmp_path / "x.npy", "-o", tmp_path / "swift.npy")
    assert r.returncode == 0, r.stderr
    delta = keras.models.load_model(tmp_path / f"delta.{ext}", compile=False)
    kinds = {l.name: type(l).__name__ for l in delta.layers}
    assert kinds["sep_depthwise"] == f"DepthwiseConv{rank}D" and kinds["sep"] == f"Conv{rank}D", kinds
    assert f"SeparableConv{rank}D" not in kinds.values() and kinds["sep_depthwise_delta"] == "DeltaActivation", kinds
    sep = model.get_layer("sep")
    depthwise, pointwise = delta.get_layer("sep_depthwise"), delta.get_layer("sep")
    assert not depthwise.use_bias and depthwise.strides == (2,) * rank and pointwise.kernel_size == (1,) * rank
    np.testing.assert_array_equal(depthwise.get_weights()[0], sep.get_weights()[0])
    for got, want in zip(pointwise.get_weights(), sep.get_weights()[1:]):
        np.testing.assert_array_equal(got, want)
    swift = np.load(tmp_path / "swift.npy")
    np.testing.assert_allclose(delta.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
    if ext == "h5":
        # tf-keras loads the split layers from the legacy format too, and predicts the same.
        import tf_keras
        legacy = tf_keras.models.load_model(tmp_path / "delta.h5", compile=False)
        assert type(legacy.get_layer("sep_depthwise")).__name__ == f"DepthwiseConv{rank}D"
        np.testing.assert_allclose(legacy.predict(x, verbose=0), swift, rtol=1e-4, atol=1e-4)
