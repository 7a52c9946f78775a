"""TensorFlow's per-frame inference of a Keras model, the baseline of
`keras-delta bench stream`: the frames the streaming engine saw, one at a
time, through `model.predict_on_batch` (2 threads, as the Swift side has).
A clip model (input `[batch, time, H, W, C]`) predicts one clip at a time,
as the frames complete it; frames/s counts the clips' frames.

Run: .venv/bin/python tools/bench/tf_stream_predict.py MODEL.h5 FRAMES.npy [--json OUT] [--threads 2]
"""
import argparse
import json
import os
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("frames", help=".npy [T, H, W, C] float32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="best of this many passes over the frames")
    p.add_argument("--json")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    # tf-keras-written files (`_tfkeras` in the name, as in keras_workloads.py) load with tf-keras.
    if "_tfkeras" in os.path.basename(a.model):
        import tf_keras as keras
    else:
        import keras
    model = keras.models.load_model(a.model, compile=False)
    frames = np.load(a.frames).astype("float32")
    shape = model.inputs[0].shape
    if len(shape) == 5:
        t = shape[1]
        singles = [frames[i:i + t][None] for i in range(0, len(frames) - t + 1, t)]
        frames = frames[:len(singles) * t]
    else:
        singles = [frames[i:i + 1] for i in range(len(frames))]
    for x in singles[:3]:
        model.predict_on_batch(x)
    best = float("inf")
    for _ in range(a.repeats):
        start = time.perf_counter()
        for x in singles:
            model.predict_on_batch(x)
        best = min(best, time.perf_counter() - start)
    result = {"workload": f"stream {os.path.basename(a.model)} {len(frames)} frames", "engine": "tensorflow predict_on_batch",
              "frames_per_second": len(frames) / best, "keras": keras.__version__, "tensorflow": tf.__version__}
    text = json.dumps(result)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
