"""Files that KerasIO wrote, loaded by Keras 3 and tf-keras: predictions must
equal Swift's and the original Keras model's within 1e-4·(1+|y|) per element,
and the three formats must hold the same weights bit for bit."""
import functools
import json
import zipfile

import numpy as np
import pytest

from conftest import FOLDER, MISSING

import keras  # noqa: E402
import tf_keras  # noqa: E402


@keras.saving.register_keras_serializable(package="keras_delta")
class ScaleBy(keras.layers.Layer):
    """Tests/KerasIOTests/InteropExportTests.swift's custom layer: x·scale + offset."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


class ScaleByKeras2(tf_keras.layers.Layer):
    """The same layer for tf-keras, registered below under the same name."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


tf_keras.saving.get_custom_objects()["keras_delta>ScaleBy"] = ScaleByKeras2


@functools.lru_cache(maxsize=None)
def keras3_model(file):
    """A Keras 3 model loaded without compiling, shared by the tests that only read it."""
    return keras.models.load_model(FOLDER / file, compile=False)


def require(case):
    if case is None:
        pytest.fail(MISSING, pytrace=False)
    return case


def arrays(case, key):
    return [np.load(FOLDER / name) for name in case[key]]


def predict(model, case):
    inputs = arrays(case, "inputs")
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return outputs if isinstance(outputs, list) else [outputs]


def assert_close(actual, expected, what):
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for j, (a, e) in enumerate(zip(actual, expected, strict=True)):
        a = np.asarray(a)
        assert a.shape == e.shape, f"{what}: output {j} has shape {a.shape}, expected {e.shape}"
        excess = np.abs(a - e) - 1e-4 * (1 + np.abs(e))
        assert excess.max() <= 0, f"{what}: output {j} differs by up to {np.abs(a - e).max():.3g}"


def check_predictions(model, case, reader):
    actual = predict(model, case)
    assert_close(actual, arrays(case, "swift_outputs"), f"{case['name']} in {reader} vs Swift")
    if case["keras_outputs"]:
        assert_close(actual, arrays(case, "keras_outputs"), f"{case['name']} in {reader} vs the original Keras model")


def wants(predicate):
    def mark(function):
        function.wants = predicate
        return function
    return mark


def test_manifest_is_present():
    assert (FOLDER / "manifest.json").exists(), MISSING


def test_keras3_loads_h5(case):
    case = require(case)
    check_predictions(keras3_model(case["h5"]), case, "Keras 3 (.h5)")


def test_tf_keras_loads_h5(case):
    case = require(case)
    model = tf_keras.models.load_model(FOLDER / case["h5"], compile=False)
    check_predictions(model, case, "tf-keras (.h5)")


def test_keras3_loads_keras(case):
    case = require(case)
    check_predictions(keras3_model(case["keras"]), case, "Keras 3 (.keras)")


def test_keras3_loads_weights_h5(case):
    case = require(case)
    model = keras.models.load_model(FOLDER / case["keras"], compile=False)
    for w in model.weights:
        w.assign(np.zeros(w.shape, dtype=w.dtype))
    model.load_weights(FOLDER / case["weights"])
    check_predictions(model, case, "Keras 3 (.weights.h5)")


def test_formats_hold_the_same_weights(case):
    case = require(case)
    from_h5, from_keras = keras3_model(case["h5"]), keras3_model(case["keras"])
    for a, b in zip(from_h5.weights, from_keras.weights, strict=True):
        assert np.array_equal(np.asarray(a).view(np.uint32), np.asarray(b).view(np.uint32)), f"{case['name']}: {a.path}"
    assert len(from_h5.weights) == len(from_keras.weights)


def test_keras_archive_layout(case):
    case = require(case)
    with zipfile.ZipFile(FOLDER / case["keras"]) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        assert json.loads(archive.read("metadata.json"))["keras_version"].startswith("3.")


@wants(lambda case: case["compiled"])
def test_training_config_compiles_in_both_versions(case):
    case = require(case)
    for load, path in ((keras.models.load_model, case["h5"]), (tf_keras.models.load_model, case["h5"]),
                       (keras.models.load_model, case["keras"])):
        model = load(FOLDER / path, compile=True)
        check_predictions(model, case, f"{load.__module__} (compiled {path})")
        optimizer = model.optimizer
        assert type(optimizer).__name__ == "Adam", f"{path}: {type(optimizer).__name__}"
        assert np.isclose(float(np.asarray(optimizer.learning_rate)), 0.005), f"{path}: learning rate"
        assert np.isclose(float(optimizer.beta_1), 0.8), f"{path}: beta_1"
