"""The `make bench` ConvLSTM2D model with delta layers before both recurrent
layers and after the last one (deltaize puts none before a recurrent layer:
DELTA_SPEC.md's MAC layers are Dense and the convolutions), for
`keras-delta stream` to measure recurrent steps whose inputs are sparse.

Run (after `tools/bench/run_bench.py` wrote .fixtures/bench/convlstm.h5):
  .venv/bin/python tools/bench/convlstm_delta_model.py -o .build/convlstm_delta.keras
  .build/release/keras-delta stream .build/convlstm_delta.keras --data synthetic:mode=motion,classes=10,clips=40 \\
      --frames 320 --key-frame-every 100 --profile
"""
import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "keras_delta"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--model", default=str(ROOT / ".fixtures" / "bench" / "convlstm.h5"))
    a = p.parse_args()
    import keras
    from keras_delta import DeltaActivation
    source = keras.models.load_model(a.model, compile=False)
    x = keras.Input(source.input_shape[1:])
    # Steps: 4 on the 0…255 frames, 0.05 on the recurrent outputs (tanh · sigmoid, within ±1).
    h = DeltaActivation(threshold_init=4.0, clip_length=None, name="frames_delta")(x)
    for layer in source.layers[1:]:
        h = layer(h)
        if isinstance(layer, keras.layers.ConvLSTM2D):
            h = DeltaActivation(threshold_init=0.05, clip_length=None, name=f"{layer.name}_delta")(h)
    keras.Model(x, h).save(a.output)
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
