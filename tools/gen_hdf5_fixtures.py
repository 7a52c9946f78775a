#!/usr/bin/env python3
"""Writes the HDF5 test fixtures into Tests/HDF5Tests/Fixtures/.

Run with the project venv:  .venv/bin/python tools/gen_hdf5_fixtures.py

Writes, with h5py:
  attributes.h5      every attribute form Keras and h5py write (KERAS_FORMATS.md §1.2-1.3)
  datasets.h5        numeric datasets of every dtype and rank, scalars, empty shapes,
                     a name containing '/', big-endian, float16, int16, gzip, strings
  order.h5           groups and attributes created in non-alphabetical order, with and
                     without track_order
  corrupt_dims.h5    datasets whose dimensions were patched to disagree with their data
  keras3_model.h5    a tiny model saved by Keras 3 with model.save("x.h5")
  tf_keras_model.h5  the same model saved by tf-keras (Keras 2)
  expected.json      the exact values written, and the versions that wrote them

The Keras models are built in subprocesses (this script re-runs itself with
--keras3 or --tf-keras) so that each Keras sees a fresh interpreter.
"""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "HDF5Tests" / "Fixtures"

# Strings with non-ASCII characters, to check UTF-8 decoding.
UTF8_TEXT = "naïve café — 模型 ✓"


def describe(value):
    """The JSON record for one attribute value as h5py reads it back."""
    import h5py
    import numpy as np

    if isinstance(value, h5py.Empty):
        return {"dtype": np.dtype(value.dtype).name, "shape": [], "count": 0, "values": []}
    if isinstance(value, str):
        return {"dtype": "string", "shape": [], "count": 1, "values": [value]}
    if isinstance(value, bytes):
        return {"dtype": "string", "shape": [], "count": 1, "values": [value.decode("utf8")]}
    array = np.asarray(value)
    shape = list(array.shape)
    if array.dtype.kind in "SUO":
        flat = [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
        return {"dtype": "string", "shape": shape, "count": array.size, "values": flat}
    return {"dtype": array.dtype.name, "shape": shape, "count": int(array.size),
            "values": array.reshape(-1).tolist()}


def hdf5_form(attribute_id):
    """How HDF5 stores an attribute: string form, padding and character set."""
    import h5py

    datatype = attribute_id.get_type()
    if datatype.get_class() != h5py.h5t.STRING:
        return {}
    form = {"encoding": "utf8" if datatype.get_cset() == h5py.h5t.CSET_UTF8 else "ascii"}
    if datatype.is_variable_str():
        form["form"] = "variable"
    else:
        pads = {h5py.h5t.STR_NULLPAD: "nullPadded", h5py.h5t.STR_NULLTERM: "nullTerminated",
                h5py.h5t.STR_SPACEPAD: "spacePadded"}
        form["form"] = "fixed"
        form["padding"] = pads[datatype.get_strpad()]
        form["size"] = datatype.get_size()
    return form


def write_raw_fixed_strings(obj, name, strings, size, padding):
    """Writes a 1-D fixed-length ASCII string attribute byte for byte."""
    import h5py
    import numpy as np

    datatype = h5py.h5t.C_S1.copy()
    datatype.set_size(size)
    datatype.set_strpad(padding)
    fill = b" " if padding == h5py.h5t.STR_SPACEPAD else b"\0"
    data = np.array([s.encode() + fill * (size - len(s.encode())) for s in strings], dtype=f"S{size}")
    space = h5py.h5s.create_simple((len(strings),))
    attribute = h5py.h5a.create(obj.id, name.encode(), datatype, space)
    attribute.write(data, mtype=datatype)


def write_attributes(path):
    """Every attribute form, each exactly as the Python code in its comment writes it."""
    import h5py
    import numpy as np

    records = {}
    with h5py.File(path, "w") as f:
        root = {
            # Keras: f.attrs["keras_version"] = keras_version (str) -> scalar VLEN UTF-8
            "keras_version": "3.15.1",
            "utf8_scalar": UTF8_TEXT,
            "empty_string": "",
            # Keras: model_weights.attrs["backend"] = backend.encode("utf8") -> scalar VLEN ASCII
            "backend": b"tensorflow",
            # Keras: f.attrs["model_config"] = json.dumps(config).encode("utf8") -> scalar VLEN ASCII
            "model_config": json.dumps({"class_name": "Sequential", "config": {"name": "seq", "layers": []}}).encode("utf8"),
            # numpy bytes scalar -> scalar fixed-length ASCII, NULLPAD
            "fixed_scalar": np.bytes_(b"fixed-length"),
            # fixed-length UTF-8 scalar (h5py.string_dtype("utf-8", n))
            "fixed_utf8_scalar": np.array("grüße".encode(), dtype=h5py.string_dtype("utf-8", len("grüße".encode()))),
            # Keras: group.attrs["layer_names"] = [name.encode("utf8") ...] -> 1-D VLEN ASCII
            "vlen_ascii_list": [b"input_layer", b"dense", b"dense_1"],
            # list of str -> 1-D VLEN UTF-8
            "vlen_utf8_list": ["alpha", "βήτα", UTF8_TEXT],
            # Keras chunked names: np.asarray(list_of_bytes) -> 1-D fixed 'S', NULLPAD, size = longest
            "fixed_nullpad_list": np.asarray([b"dense/kernel:0", b"dense/bias:0", b"b"]),
            # numbers
            "float32_scalar": np.float32(0.5),
            "float64_scalar": np.float64(-2.25),
            "int32_scalar": np.int32(-7),
            "int64_scalar": np.int64(2**40 + 3),
            "float32_array": np.array([1.5, -0.25, 3.0], dtype=np.float32),
            "float64_array": np.array([0.125, -1e300, 42.0], dtype=np.float64),
            "int32_array": np.array([-2147483648, 0, 2147483647], dtype=np.int32),
            "int64_array": np.array([-(2**62), 0, 2**62, 5], dtype=np.int64),
            "int32_matrix": np.arange(6, dtype=np.int32).reshape(2, 3) - 2,
            # Keras: empty weight_names -> np.asarray([]) -> float64 array of shape (0,)
            "empty_float64": np.asarray([]),
            "empty_int64": np.zeros(0, dtype=np.int64),
            # a null dataspace (h5py.Empty)
            "null_float32": h5py.Empty("f4"),
        }
        for name, value in root.items():
            f.attrs[name] = value
        write_raw_fixed_strings(f, "fixed_nullterm_list", ["ab", "cdefg", ""], 8, h5py.h5t.STR_NULLTERM)
        write_raw_fixed_strings(f, "fixed_spacepad_list", ["ab", "cdefg", ""], 8, h5py.h5t.STR_SPACEPAD)

        # Keras chunking (save_attributes_to_hdf5_group): when np.asarray(names).nbytes exceeds
        # 64512 it writes attrs["layer_names0"], attrs["layer_names1"], ... = np.array_split(...).
        # Same code path, with a short list so the fixture stays small.
        chunked = f.create_group("chunked")
        names = [f"layer_{i:02d}".encode() for i in range(7)] + [b"a_much_longer_layer_name"]
        for index, chunk in enumerate(np.array_split(np.asarray(names), 2)):
            chunked.attrs[f"layer_names{index}"] = chunk

        for obj in (f, chunked):
            entries = []
            for name in obj.attrs:
                record = {"name": name, **describe(obj.attrs[name]), **hdf5_form(obj.attrs.get_id(name))}
                entries.append(record)
            records[obj.name] = entries
    # The raw fixed-length forms decode to the strings without padding.
    for record in records["/"]:
        if record["name"] in ("fixed_nullterm_list", "fixed_spacepad_list"):
            record["values"] = ["ab", "cdefg", ""]
    return records


def dataset_values(dtype, count):
    """Distinct, exactly representable values for `count` elements of `dtype`."""
    import numpy as np

    index = np.arange(count)
    if dtype.kind == "f":
        return (index * 0.25 - 1.5).astype(dtype)
    if dtype == np.uint8:
        return ((index * 37 + 200) % 256).astype(dtype)
    if dtype == np.int64:
        return (index * -(2**33) + 2**40 + 1).astype(dtype)
    return (index * -3 + 7).astype(dtype)


def write_datasets(path):
    import h5py
    import numpy as np

    records = []

    def add(f, name, array, **options):
        f.create_dataset(name, data=array, **options)
        records.append({"path": "/" + name, "dtype": array.dtype.newbyteorder("=").name,
                        "shape": list(array.shape), "values": array.reshape(-1).tolist()})

    with h5py.File(path, "w") as f:
        for dtype in ("float32", "float64", "int32", "int64", "uint8"):
            for rank, shape in enumerate([(), (5,), (2, 3), (2, 3, 4)]):
                count = int(np.prod(shape))
                add(f, f"{dtype}_rank{rank}", dataset_values(np.dtype(dtype), count).reshape(shape))
        add(f, "empty_float32_0", np.zeros((0,), dtype=np.float32))
        add(f, "empty_float32_3x0", np.zeros((3, 0), dtype=np.float32))
        # Keras 2 weight names contain '/', so h5py creates the intermediate groups.
        add(f, "model_weights/dense/dense/kernel:0", dataset_values(np.dtype("float32"), 12).reshape(4, 3))
        add(f, "float32_big_endian", dataset_values(np.dtype(">f4"), 4))
        add(f, "float16", dataset_values(np.dtype("float16"), 4))
        add(f, "int16", dataset_values(np.dtype("int16"), 4))
        add(f, "float32_gzip", dataset_values(np.dtype("float32"), 100).reshape(10, 10),
            chunks=(5, 5), compression="gzip")
        f.create_dataset("strings", data=[b"not", b"numbers"])
    return records


def ordered_properties(kind):
    """Creation properties that track creation order (h5py's track_order=True)
    without modification times, so the file is the same on every run."""
    import h5py

    properties = h5py.h5p.create(kind)
    properties.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    properties.set_attr_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    properties.set_obj_track_times(False)
    return properties


def write_order(path):
    import h5py

    creation = ["zeta", "alpha", "mu", "delta", "beta"]
    file_id = h5py.h5f.create(str(path).encode(), h5py.h5f.ACC_TRUNC, fcpl=ordered_properties(h5py.h5p.FILE_CREATE))
    with h5py.File(file_id) as f:
        for name in creation:
            if name == "delta":
                f.create_dataset(name, data=[1.0, 2.0])
            else:
                h5py.h5g.create(f.id, name.encode(), gcpl=ordered_properties(h5py.h5p.GROUP_CREATE))
        for name in ("z_attr", "a_attr", "m_attr"):
            f.attrs[name] = name
        untracked = f["zeta"].create_group("untracked", track_order=False)
        for name in ("zeta", "alpha", "mu"):
            untracked.create_group(name)
    return {
        "/": {"creation": creation, "name": sorted(creation),
              "kinds": {n: ("dataset" if n == "delta" else "group") for n in creation},
              "attributes_creation": ["z_attr", "a_attr", "m_attr"],
              "attributes_name": ["a_attr", "m_attr", "z_attr"]},
        "/zeta/untracked": {"creation": ["alpha", "mu", "zeta"], "name": ["alpha", "mu", "zeta"]},
    }


def write_corrupt_dims(path):
    """Datasets whose stored dimensions were patched after writing.

    `huge` claims (7, 2**50) elements instead of (7, 13); `mismatch` claims
    (5, 12) instead of (5, 11), so its data is 20 bytes short.
    """
    import h5py
    import numpy as np

    with h5py.File(path, "w") as f:
        f.create_dataset("huge", data=np.ones((7, 13), dtype=np.float32))
        f.create_dataset("mismatch", data=np.ones((5, 11), dtype=np.float32))
        f.create_dataset("intact", data=np.ones((3,), dtype=np.float32))
    data = bytearray(path.read_bytes())
    for old, new in (((7, 13), (7, 2**50)), ((5, 11), (5, 12))):
        # The dataspace message stores the dimensions, then the same maximum dimensions.
        needle = struct.pack("<QQ", *old)
        assert data.count(needle * 2) == 1, f"dataspace {old} not found exactly once"
        data = data.replace(needle * 2, struct.pack("<QQ", *new) * 2)
    path.write_bytes(bytes(data))
    return {"huge": [7, 2**50], "mismatch": [5, 12], "intact": {"shape": [3], "values": [1.0, 1.0, 1.0]}}


def build_and_save_model(keras, path):
    """A tiny Sequential model with exactly representable weights, saved as legacy .h5."""
    import numpy as np

    model = keras.Sequential([
        keras.Input(shape=(4,)),
        keras.layers.Dense(3, activation="relu", name="d1"),
        keras.layers.Dense(2, name="d2"),
    ], name="seq")
    weights = [(np.arange(w.size, dtype=np.float32) * 0.125 - 0.5).reshape(w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    model.save(path)


def keras_subprocess(flag, path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if flag == "--tf-keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    subprocess.run([sys.executable, __file__, flag, str(path)], check=True, env=env)


def describe_keras_file(path):
    """What a reader must find in a Keras .h5: root attributes and every weight."""
    import h5py

    def text(value):
        return value.decode("utf8") if isinstance(value, bytes) else str(value)

    with h5py.File(path, "r") as f:
        weights = f["model_weights"]
        layers = {}
        for layer in weights.attrs["layer_names"]:
            group = weights[text(layer)]
            names = [text(n) for n in group.attrs["weight_names"]]
            layers[text(layer)] = {
                "weight_names": names,
                "weights": {n: {"shape": list(group[n].shape), "values": group[n][()].reshape(-1).tolist()}
                            for n in names},
            }
        return {
            "keras_version": text(f.attrs["keras_version"]),
            "backend": text(f.attrs["backend"]),
            "model_config": text(f.attrs["model_config"]),
            "layer_names": [text(n) for n in weights.attrs["layer_names"]],
            "layers": layers,
        }


def to_json(value, indent=""):
    """JSON with one key per line but lists of numbers or strings kept on one line."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}" if items else "{}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def main():
    import h5py
    import numpy as np

    FIXTURES.mkdir(parents=True, exist_ok=True)
    expected = {
        "generator": "tools/gen_hdf5_fixtures.py",
        "versions": {"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "attributes": write_attributes(FIXTURES / "attributes.h5"),
        "datasets": write_datasets(FIXTURES / "datasets.h5"),
        "order": write_order(FIXTURES / "order.h5"),
        "corrupt_dims": write_corrupt_dims(FIXTURES / "corrupt_dims.h5"),
    }
    keras_models = {}
    for flag, name in (("--keras3", "keras3_model.h5"), ("--tf-keras", "tf_keras_model.h5")):
        keras_subprocess(flag, FIXTURES / name)
        keras_models[name] = describe_keras_file(FIXTURES / name)
    expected["keras_models"] = keras_models
    expected["versions"]["keras"] = keras_models["keras3_model.h5"]["keras_version"]
    expected["versions"]["tf_keras"] = keras_models["tf_keras_model.h5"]["keras_version"]
    (FIXTURES / "expected.json").write_text(to_json(expected) + "\n")
    total = sum(p.stat().st_size for p in FIXTURES.iterdir())
    print(f"wrote {len(list(FIXTURES.iterdir()))} files, {total} bytes, to {FIXTURES}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--keras3":
        import keras
        build_and_save_model(keras, sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--tf-keras":
        import tf_keras
        build_and_save_model(tf_keras, sys.argv[2])
    else:
        main()
