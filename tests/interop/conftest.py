"""The interop suite: files written by KerasIO (the Swift tests) loaded by
real Keras 3 and tf-keras. `swift test` writes them into .fixtures/interop
with a manifest; this suite fails, not skips, when they are missing."""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / ".fixtures" / "interop"
MANIFEST = FOLDER / "manifest.json"
MISSING = (f"{MANIFEST.relative_to(ROOT)} is missing: run `swift test` first "
           "(InteropExportTests writes the files this suite loads into real Keras)")


def load_cases():
    """The cases of the manifest, or one placeholder that fails every test when it is missing."""
    if not MANIFEST.exists():
        return [None]
    return json.loads(MANIFEST.read_text())["cases"]


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = load_cases()
        selected = [c for c in cases if c is None or getattr(metafunc.function, "wants", lambda c: True)(c)]
        metafunc.parametrize("case", selected, ids=[c["name"] if c else "missing" for c in selected])
