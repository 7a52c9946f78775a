"""The keras-delta CLI against real Keras: `fit --no-shuffle` ends on the
weights Keras's own fit reaches from the same file; `evaluate`, `predict` and
`convert` agree with Keras; bad input exits 2 with one line on stderr and
leaves no output file.

Needs the release binary (`make test` builds it first)."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# KERAS_DELTA_CLI points the suite at another build of the binary.
CLI = pathlib.Path(os.environ.get("KERAS_DELTA_CLI", ROOT / ".build" / "release" / "keras-delta"))


def cli(*args):
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `swift build -c release --product keras-delta` (make test does)")
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A compiled Keras model file, data, and Keras's own fit from that file."""
    import keras
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu")(inputs)
    h = keras.layers.BatchNormalization()(h)
    outputs = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    path = d / "model.h5"
    model.save(path)
    x = rng.normal(size=(21, 6)).astype("float32")
    y = rng.integers(0, 3, size=(21,)).astype("int32")
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", y)
    reference = keras.models.load_model(path, compile=False)
    # A fresh optimizer from the stored config, as the CLI builds one.
    reference.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    reference.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    return d, path, x, y, reference


def test_fit_no_shuffle_matches_keras(trained):
    d, path, x, y, reference = trained
    import keras
    out = d / "fitted.h5"
    r = cli("fit", path, "--x", d / "x.npy", "--y", d / "y.npy", "-o", out, "--epochs", 2, "--batch-size", 8, "--no-shuffle")
    assert r.returncode == 0, r.stderr
    fitted = keras.models.load_model(out)
    for a, b in zip(fitted.weights, reference.weights, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert np.all(np.abs(a - b) <= 1e-4 * np.maximum(np.abs(b), 1e-2)), f"weight {b.shape} differs"


def test_evaluate_and_predict_match_keras(trained):
    d, path, x, y, _ = trained
    import keras
    model = keras.models.load_model(path)
    r = cli("evaluate", path, "--x", d / "x.npy", "--y", d / "y.npy")
    assert r.returncode == 0, r.stderr
    loss = float(next(l for l in r.stdout.splitlines() if l.startswith("loss:")).split(":")[1])
    assert abs(loss - model.evaluate(x, y, verbose=0)) <= 1e-5
    r = cli("predict", path, "-i", d / "x.npy", "-o", d / "p.npy", "--batch-size", 5)
    assert r.returncode == 0, r.stderr
    expected = model.predict(x, verbose=0)
    assert np.all(np.abs(np.load(d / "p.npy") - expected) <= 1e-4 * (1 + np.abs(expected)))


def test_convert_round_trip_loads_in_keras(trained):
    d, path, x, _, _ = trained
    import keras
    expected = keras.models.load_model(path).predict(x, verbose=0)
    r = cli("convert", path, d / "m.keras")
    assert r.returncode == 0, r.stderr
    r = cli("convert", d / "m.keras", d / "w.weights.h5")
    assert r.returncode == 0, r.stderr
    r = cli("convert", d / "w.weights.h5", d / "back.h5", "--model", path)
    assert r.returncode == 0, r.stderr
    for f in ("m.keras", "back.h5"):
        got = keras.models.load_model(d / f).predict(x, verbose=0)
        assert np.all(np.abs(got - expected) <= 1e-4 * (1 + np.abs(expected))), f


def test_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not a model")
    out = tmp_path / "out.npy"
    for args in (["summary", bad], ["predict", bad, "-i", bad, "-o", out], ["convert", tmp_path / "missing.h5", tmp_path / "x.keras"]):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "keras-delta: " in lines[0], r.stderr
    assert not out.exists() and not (tmp_path / "x.keras").exists()


def test_quick_demo_exports_files_keras_loads(tmp_path):
    """`keras-delta demo --quick`: the JSON has CLI.md's keys, the refined exports
    reloaded the same in Swift and Keras 3, and Keras 3 (with keras_delta) loads them here too."""
    import json
    import sys
    sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))
    import keras
    import keras_delta  # noqa: F401
    r = cli("demo", "--quick", "-o", tmp_path, "--json", tmp_path / "report.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"accuracy", "density_reduction", "exports", "runs"} <= set(report)
    assert set(report["accuracy"]) == {"before", "after"} and report["density_reduction"] > 0
    assert [run["model"] for run in report["runs"]] == ["models/frame_mobilenet.h5", "models/clip_temporal.h5"]
    for run in report["runs"]:
        assert len(run["exports"]) == 2 and all(e["reloaded_same"] for e in run["exports"]), run["exports"]
    assert report["stream"]["speedup"] > 0
    for run in report["runs"]:   # both bundled models stream, each clip or frame within 1e-4 of the clip forward
        assert run["stream"]["speedup"] > 0 and run["stream"]["max_deviation"] <= 1e-4, run
    for name, shape in (("frame_refined.h5", (None, 6)), ("frame_refined.keras", (None, 6)), ("clip_refined.keras", (None, 10))):
        model = keras.models.load_model(tmp_path / name, compile=False)
        assert model.output_shape == shape, name
        assert any(type(l).__name__ == "DeltaActivation" for l in model.layers), name


def test_stream_keras_trained_clip_model_on_ffmpeg_video(tmp_path):
    """`keras-delta stream` on the Keras-trained Conv3D clip model, deltaized and
    calibrated, over a video FFmpeg makes: each clip's output is within 1e-4 of
    the clip forward of the same delta model (Swift's, which the golden tests
    tie to Keras), the deltas are sparse, and Keras loads the streamed file."""
    import json
    import sys
    sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))
    import keras
    import keras_delta  # noqa: F401
    video = tmp_path / "testsrc.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=4",
                    "-pix_fmt", "yuv420p", str(video)], check=True)
    delta = tmp_path / "clip_delta.keras"
    r = cli("deltaize", ROOT / "models" / "clip_temporal.h5", delta, "--calibrate", "synthetic:mode=motion,classes=10,clips=8")
    assert r.returncode == 0, r.stderr
    r = cli("stream", delta, "--data", video, "--frames", "40", "--key-frame-every", "16", "--json", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["frames"] == 40 and report["max_deviation"] <= 1e-4, report
    assert report["outputs_compared"] == 5 and report["outputs_beyond_tolerance"] == 0, report   # 5 clips of 8 frames
    for key in ("dense_deviation", "deviation_from_dense"):   # the same clips, against the clip forward and against each other
        assert report[key]["outputs_compared"] == 5 and report[key]["max"] <= 1e-4, report
    assert 0 < report["delta_density"] < 0.5 and report["macs"]["done"] < report["macs"]["dense"], report
    assert "conv over time" in r.stdout and "latency 3 frame(s)" in r.stdout, r.stdout
    model = keras.models.load_model(delta, compile=False)
    assert model.input_shape == (None, 8, 32, 32, 3)


def test_stream_with_a_key_frame_on_every_frame_is_dense_per_frame_inference(tmp_path):
    """With a key frame on every frame, `stream` runs no delta update: its
    outputs are dense per-frame inference's, float for float, so the JSON's
    `deviation_from_dense` is exactly 0 on every frame."""
    import json
    delta = tmp_path / "frame_delta.h5"
    r = cli("deltaize", ROOT / "models" / "frame_cnn.h5", delta, "--calibrate", "synthetic:mode=appearance,classes=6,clips=4")
    assert r.returncode == 0, r.stderr
    r = cli("stream", delta, "--data", "synthetic:mode=appearance,classes=6,clips=3", "--frames", "24", "--key-frame-every", "1",
            "--json", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["deviation_from_dense"] == {"max": 0.0, "outputs_beyond_tolerance": 0, "outputs_compared": 24}, report
    assert report["dense_deviation"]["outputs_compared"] == 24 and report["dense_deviation"]["max"] == report["max_deviation"], report
    assert "deviation of dense per-frame inference from the clip forward" in r.stdout, r.stdout


def test_stream_of_a_model_that_takes_no_frames_is_one_line_naming_the_file(tmp_path):
    """A delta model over sequences `[batch, steps, channels]` has no frames to
    stream video through: `stream` exits 2 with one line naming the file
    (it named only the model before), and writes no JSON."""
    import keras
    keras.utils.set_random_seed(2)
    inp = keras.Input((16, 4), name="steps")
    h = keras.layers.Conv1D(6, 3, activation="relu", name="conv")(inp)
    keras.Model(inp, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(h))).save(tmp_path / "seq.keras")
    r = cli("deltaize", tmp_path / "seq.keras", tmp_path / "seq_delta.keras")
    assert r.returncode == 0, r.stderr
    r = cli("stream", tmp_path / "seq_delta.keras", "--frames", "8", "--json", tmp_path / "s.json")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and str(tmp_path / "seq_delta.keras") in lines[0], r.stderr
    assert "is not frames" in lines[0] and not (tmp_path / "s.json").exists(), r.stderr


@pytest.mark.parametrize("activation,loss", [("softmax", "sparse_categorical_crossentropy"),
                                             ("softmax", "categorical_crossentropy"),
                                             ("sigmoid", "binary_crossentropy")])
def test_saturated_crossentropy_matches_keras(tmp_path, activation, loss):
    """Crossentropy of a softmax/sigmoid output whose probabilities underflow
    the 1e-7 clip: Keras computes it from the logits (`_keras_logits`), so
    loss and gradients stay exact where the clipped probabilities give
    −log(1e-7) and no gradient. Loss from `evaluate` and weights after `fit`."""
    import keras
    rng = np.random.default_rng(5)
    keras.utils.set_random_seed(5)
    units = 1 if activation == "sigmoid" else 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    # Logits of ±40 or so: the wrong class gets a probability far below 1e-7.
    model.layers[0].set_weights([rng.normal(scale=20.0, size=(4, units)).astype("float32"), np.zeros(units, "float32")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss=loss)
    path = tmp_path / "model.h5"
    model.save(path)
    x = rng.normal(size=(10, 4)).astype("float32")
    labels = rng.integers(0, units if units > 1 else 2, size=(10,))
    y = {"sparse_categorical_crossentropy": labels.astype("int32"),
         "categorical_crossentropy": np.eye(3, dtype="float32")[labels],
         "binary_crossentropy": labels.reshape(-1, 1).astype("float32")}[loss]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    expected = model.evaluate(x, y, batch_size=10, verbose=0)
    assert expected > -np.log(1e-7) / 10, "the case must saturate"
    r = cli("evaluate", path, "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy", "--batch-size", 10)
    assert r.returncode == 0, r.stderr
    assert abs(float(r.stdout.split("loss:")[1].split()[0]) - expected) <= 1e-5 * max(1.0, abs(expected))
    out = tmp_path / "fitted.h5"
    r = cli("fit", path, "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy", "-o", out, "--epochs", 2,
            "--batch-size", 5, "--no-shuffle")
    assert r.returncode == 0, r.stderr
    model.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    for a, b in zip(keras.models.load_model(out).weights, model.weights, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert np.all(np.abs(a - b) <= 1e-4 * np.maximum(np.abs(b), 1e-2)), f"weight {b.shape} differs"


REGRESSIONS = ROOT / "Tests/KerasIOTests/Fixtures/regressions"


@pytest.mark.parametrize("name", ["attention_keras3", "attention_keras2", "recurrent_keras3", "recurrent_keras2",
                                  "ops_keras3"])
def test_attention_initial_states_and_ops_convert_to_keras_archives_keras3_loads(tmp_path, name):
    """Attention layers (their call arguments and build shapes), RNN initial
    states and Keras 3 op nodes, from files written by Keras 3 and by tf-keras,
    saved by `convert` as `.keras`: Keras 3 loads them and predicts what the
    original predicted."""
    import json
    import keras
    meta = json.loads((REGRESSIONS / f"{name}.json").read_text())
    out = tmp_path / f"{name}.keras"
    r = cli("convert", REGRESSIONS / meta["file"], out)
    assert r.returncode == 0, r.stderr
    xs = [np.load(REGRESSIONS / f"{name}.in{i}.npy") for i in range(meta["inputs"])]
    ys = [np.load(REGRESSIONS / f"{name}.out{j}.npy") for j in range(meta["outputs"])]
    predicted = keras.models.load_model(out, compile=False).predict(xs if len(xs) > 1 else xs[0], verbose=0)
    predicted = predicted if isinstance(predicted, list) else [predicted]
    assert len(predicted) == len(ys)
    for p, y in zip(predicted, ys, strict=True):
        np.testing.assert_allclose(np.asarray(p), y, atol=1e-4, rtol=1e-4)


def test_tf_function_without_a_keras3_op_is_refused_in_one_line(tmp_path):
    """`tf.linalg.matmul(transpose_b=True)` has no Keras 3 op: converting a
    tf-keras file that uses it to `.keras` fails with one line naming the layer
    and leaves no file."""
    out = tmp_path / "ops.keras"
    r = cli("convert", REGRESSIONS / "ops_keras2.h5", out)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "tf.linalg.matmul" in r.stderr and "transpose_b" in r.stderr
    assert not out.exists()
