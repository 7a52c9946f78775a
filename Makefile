# KerasDelta: `make demo` runs the main job, `make test` runs every test.
# Both install what is missing first (tools/setup.sh).
SWIFT ?= swift
PYTHON := .venv/bin/python

.PHONY: setup build test demo bench fixtures clean

setup:
	@bash tools/setup.sh

build: setup
	$(SWIFT) build -c release --product keras-delta

test: setup
	$(SWIFT) build -c release --product keras-delta
	$(PYTHON) tools/gen_application_models.py
	$(SWIFT) test --disable-swift-testing
	$(PYTHON) -m pytest tests/interop -q

demo: build
	$(SWIFT) run -c release keras-delta demo

# Benchmarks: kernels against plain sgemm, then whole models against TensorFlow.
bench: build
	.build/release/keras-delta bench gemm
	$(PYTHON) tools/bench/run_bench.py

# Regenerates the committed test fixtures with real TensorFlow/Keras/h5py.
fixtures: setup
	$(PYTHON) tools/gen_tensor_fixtures.py
	$(PYTHON) tools/gen_conv_fixtures.py
	$(PYTHON) tools/gen_hdf5_fixtures.py
	cd tools && for f in gen_layer_fixtures_*.py; do ../$(PYTHON) $$f || exit 1; done
	cd tools && ../$(PYTHON) gen_model_fixtures.py
	$(PYTHON) tools/gen_config_keys.py
	$(PYTHON) tools/gen_keras_io_fixtures.py
	$(PYTHON) tools/gen_video_models.py
	$(PYTHON) tools/gen_training_fixtures.py
	cd tools && ../$(PYTHON) gen_mask_fixtures.py

clean:
	rm -rf .build
