"""How far a delta model's outputs move with the order of float sums: the
frames of a video predicted by Keras and by `keras-delta predict`, each in
batches of 8 and one frame at a time, compared pairwise with the streaming
engine's measure |a − b| / (1 + |b|). A delta layer rounds to its steps, so a
value at a rounding boundary can land on either side with another order of
sums; this is the floor that `bench stream`'s `dense_deviation` and
`max_deviation` are read against.

Run (after `make build`):
  keras-delta deltaize MODEL.h5 DELTA.keras --calibrate VIDEO --threshold-scale 1
  .venv/bin/python tools/bench/batch_sensitivity.py --model DELTA.keras --video VIDEO [--frames 64]
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--video", required=True)
    p.add_argument("--frames", type=int, default=64, help="a multiple of 8")
    p.add_argument("--binary", default=str(ROOT / ".build/release/keras-delta"), help="the keras-delta executable")
    a = p.parse_args()
    import keras
    import keras_delta  # noqa: F401  (registers DeltaActivation)
    model = keras.models.load_model(a.model, compile=False)
    h, w, c = model.input_shape[1:]
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", a.video, "-frames:v", str(a.frames), "-vf", f"scale={w}:{h}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    x = np.frombuffer(raw, np.uint8).reshape(-1, h, w, c).astype("float32")
    keras_8 = np.concatenate([model.predict_on_batch(x[i:i + 8]) for i in range(0, len(x) - len(x) % 8, 8)])
    x = x[:len(keras_8)]
    keras_1 = np.concatenate([model.predict_on_batch(x[i:i + 1]) for i in range(len(x))])
    swift = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/x.npy", x)
        for batch in (8, 1):
            subprocess.run([a.binary, "predict", a.model, "-i", f"{tmp}/x.npy",
                            "-o", f"{tmp}/y{batch}.npy", "--batch-size", str(batch)], check=True, capture_output=True)
            swift[batch] = np.load(f"{tmp}/y{batch}.npy")

    def deviation(name, value, reference):
        rows = (np.abs(value - reference) / (1 + np.abs(reference))).reshape(len(reference), -1).max(axis=1)
        print(f"{name}: max deviation {rows.max():.2e}, {int((rows > 1e-4).sum())} of {len(rows)} frames beyond 1e-4")

    deviation("Keras, one frame at a time against batches of 8", keras_1, keras_8)
    deviation("keras-delta predict, one frame at a time against batches of 8", swift[1], swift[8])
    deviation("keras-delta predict against Keras, batches of 8", swift[8], keras_8)


if __name__ == "__main__":
    main()
