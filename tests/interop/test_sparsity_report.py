"""`keras-delta sparsity --html` in a real browser: headless Chromium (Debian's
`chromium`, which tools/setup.sh installs) renders the page, takes a
screenshot and dumps the DOM; the chart's bars carry exactly the figures of
`--json`, and the screenshot is a real picture of the page.

Needs the release binary (`make test` builds it first)."""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from test_cli import cli

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is missing: tools/setup.sh installs Debian's chromium")


def headless(*args):
    return subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    import keras
    d = tmp_path_factory.mktemp("report")
    keras.utils.set_random_seed(1)
    inp = keras.Input((16, 16, 3), name="frames")
    h = keras.layers.Rescaling(1 / 255)(inp)
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c1")(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Conv2D(8, 3, activation="relu", name="c2")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    keras.Model(inp, keras.layers.Dense(4, name="logits")(h)).save(d / "dense.h5")
    r = cli("deltaize", d / "dense.h5", d / "delta.h5", "--threshold", "0.1", "--clip-length", "4")
    assert r.returncode == 0, r.stderr
    r = cli("sparsity", d / "delta.h5", "--data", "synthetic:mode=appearance,classes=4,frames=4,size=16", "--clips", "4",
            "--baseline", d / "dense.h5", "--json", d / "s.json", "--html", d / "s.html")
    assert r.returncode == 0, r.stderr
    return d, json.loads((d / "s.json").read_text())


def test_json_has_the_contract_keys(report):
    _, figures = report
    keys = {"name", "activation_density", "delta_density", "fan_out", "dense_macs", "spatial_macs", "delta_macs"}
    assert [l["name"] for l in figures["layers"]] == ["frames_delta", "c1_delta", "c2_delta"]
    assert all(set(l) == keys for l in figures["layers"])
    assert set(figures["total"]) == keys - {"name", "fan_out"}
    assert figures["density_reduction"] > 0 and set(figures["accuracy"]) == {"baseline", "model"}
    # Totals are the layers' MACs added up.
    for k in ("dense_macs", "spatial_macs", "delta_macs"):
        assert figures["total"][k] == pytest.approx(sum(l[k] for l in figures["layers"]), rel=1e-9)


def test_browser_renders_the_bars_with_the_reported_values(report):
    d, figures = report
    done = headless("--dump-dom", (d / "s.html").as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    bars = re.findall(r'<rect class="bar" data-layer="([^"]+)" data-series="([^"]+)" data-value="([^"]+)"[^>]*width="([^"]+)"', dom)
    by_key = {(layer, series): (float(value), float(width)) for layer, series, value, width in bars}
    layers = figures["layers"]
    baseline = {l["name"]: l for l in figures["baseline"]["layers"]}
    assert len(bars) == 6 * len(layers), "three density bars and three MAC bars per layer"
    for l in layers:
        assert by_key[(l["name"], "delta density")][0] == pytest.approx(l["delta_density"], rel=1e-12)
        assert by_key[(l["name"], "activation density")][0] == pytest.approx(l["activation_density"], rel=1e-12)
        assert by_key[(l["name"], "baseline activation density")][0] == pytest.approx(
            baseline[l["name"]]["activation_density"], rel=1e-12)
        assert by_key[(l["name"], "delta MACs")][0] == pytest.approx(l["delta_macs"], rel=1e-12)
        # Density bars are drawn to scale: 420 px is a density of 1.
        assert by_key[(l["name"], "delta density")][1] == pytest.approx(420 * l["delta_density"], abs=0.01)
    reduction = re.search(r'id="total-density-reduction">([^<]+)<', dom).group(1)
    assert reduction == f"{figures['density_reduction']:.2f}x"


def test_browser_screenshot_shows_the_page(report):
    d, _ = report
    png = d / "shot.png"
    done = headless(f"--screenshot={png}", "--window-size=900,900", (d / "s.html").as_uri())
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    import zlib
    import struct
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (900, 900)
    # Decode the first rows roughly: a rendered page is not one flat colour.
    idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                    for i in [m.start() - 4 for m in re.finditer(b"IDAT", data)])
    pixels = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    assert len(np.unique(pixels[: 900 * 4 * 300])) > 8
