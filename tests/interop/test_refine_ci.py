"""Refinement works, at CI size (issue 11): the bundled Keras-trained per-frame
model (`models/frame_mobilenet.h5`), deltaized with `keras-delta deltaize`'s
defaults, refined by `keras-delta refine` on 160 synthetic appearance clips and
measured on 96 held-out clips of another seed, with labels and label-free.

The recipe is tools/reproduce.py's (the one REPRODUCTION.md measures): the
steps calibrated to 2 × each channel's mean |frame-to-frame change|, λ 1e-2
with a 20-step warm-up, hybrid threshold gradients, frozen BatchNorm, Adam
5e-4, 6 epochs of batches of 4 whole clips.

What it reaches on this machine (2026-12-06; `refine --json` of these runs):
with labels (0.8 task loss, 0.2 teacher KL), delta MACs per frame fall 1.73x
and the unweighted delta density 1.30x, accuracy 99.0% → 97.9%; label-free,
1.78x and 1.32x at 94.8% top-1 agreement with the teacher. The issue's goal
(delta density ≥ 2x lower, accuracy within 2 points / ≥ 95% agreement) is NOT
met; the bounds below hold what is reached, with a margin for float
differences between machines, so that a regression fails here.

Needs the release binary (`make test` builds it first)."""
import json
import pathlib
import sys

import pytest

from test_cli import cli

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import reproduce  # noqa: E402  (the recipe and its command, as REPRODUCTION.md runs it)

MODEL = ROOT / reproduce.MODELS["frame"]["path"]


@pytest.fixture(scope="module")
def deltaized(tmp_path_factory):
    d = tmp_path_factory.mktemp("refine_ci")
    r = cli("deltaize", MODEL, d / "delta.h5", "--threshold-gradient", "hybrid")
    assert r.returncode == 0, r.stderr
    return d


def refine(folder, name, **settings):
    out = folder / f"{name}.json"
    r = cli(*reproduce.refine_args("frame", settings, folder / "delta.h5", folder / f"{name}.h5", out))
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    assert result["held_out_clips"] == reproduce.HELD_OUT == 96
    return result


def reductions(result):
    return (result["delta_macs"]["before"] / result["delta_macs"]["after"],
            result["delta_density"]["before"] / result["delta_density"]["after"])


def test_with_labels(deltaized):
    result = refine(deltaized, "labels")                # labels: 0.8 task loss, 0.2 teacher KL
    macs, density = reductions(result)
    assert macs >= 1.5, result
    assert density >= 1.2, result
    accuracy = result["accuracy"]
    assert accuracy["before"] >= 0.95, result          # the bundled model is a real classifier
    assert accuracy["after"] >= accuracy["before"] - 0.02, result


def test_label_free(deltaized):
    result = refine(deltaized, "free", labels=False)
    assert "agreement" in result["history"][-1] and "accuracy" not in result["history"][-1]   # no labels seen
    macs, density = reductions(result)
    assert macs >= 1.5, result
    assert density >= 1.2, result
    assert result["agreement"]["after"] >= 0.92, result
