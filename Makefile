# KerasDelta: `make demo` runs the main job, `make test` runs every test.
# Both install what is missing first (tools/setup.sh).
SWIFT ?= swift
PYTHON := .venv/bin/python
# The package's own kernels run AVX2/FMA code when this machine has the
# x86-64-v3 features (OpenBLAS picks its kernels at run time by itself).
# A package that depends on KerasDelta builds it for the baseline CPU.
CPU_FLAGS := $(shell f=/proc/cpuinfo; for x in avx2 fma bmi1 bmi2 movbe f16c abm; do grep -qw $$x $$f 2>/dev/null || exit 0; done; echo -Xswiftc -target-cpu -Xswiftc haswell)
SWIFT_FLAGS ?= $(CPU_FLAGS)

.PHONY: setup build test demo bench fixtures models reproduction clean

setup:
	@bash tools/setup.sh

build: setup
	$(SWIFT) build -c release --product keras-delta $(SWIFT_FLAGS)

test: setup
	$(SWIFT) build -c release --product keras-delta $(SWIFT_FLAGS)
	$(PYTHON) tools/gen_application_models.py
	$(SWIFT) test --disable-swift-testing $(SWIFT_FLAGS)
	$(PYTHON) -m pytest tests/interop -q

demo: build
	$(SWIFT) run -c release $(SWIFT_FLAGS) keras-delta demo

# Benchmarks: kernels against plain sgemm, then whole models against TensorFlow.
bench: build
	.build/release/keras-delta bench gemm
	$(PYTHON) tools/bench/run_bench.py
	.build/release/keras-delta bench delta --model .fixtures/bench/mobilenetv2.h5 --batch-size 16 --json .fixtures/bench/delta_overhead.json
	$(PYTHON) tools/bench/bench_refine.py

# Regenerates the committed test fixtures (every tools/gen_*.py) with real TensorFlow/Keras/h5py.
fixtures: setup
	@# Every generator must be listed below (gen_application_models.py runs in `make test`).
	@for f in tools/gen_*.py; do case $$f in tools/gen_layer_fixtures_*|tools/gen_application_models.py) continue;; esac; \
	  grep -q "$$(basename $$f)" Makefile || { echo "make fixtures does not run $$f"; exit 1; }; done
	$(PYTHON) tools/gen_tensor_fixtures.py
	$(PYTHON) tools/gen_conv_fixtures.py
	$(PYTHON) tools/gen_hdf5_fixtures.py
	cd tools && for f in gen_layer_fixtures_*.py; do ../$(PYTHON) $$f || exit 1; done
	cd tools && ../$(PYTHON) gen_model_fixtures.py
	$(PYTHON) tools/gen_config_keys.py
	$(PYTHON) tools/gen_keras_io_fixtures.py
	$(PYTHON) tools/gen_video_models.py
	$(PYTHON) tools/gen_training_fixtures.py
	$(PYTHON) tools/gen_distillation_fixtures.py
	cd tools && ../$(PYTHON) gen_mask_fixtures.py
	$(PYTHON) tools/gen_delta_fixtures.py
	$(PYTHON) tools/gen_fuzz_delta_models.py
	$(PYTHON) tools/gen_refine_fixtures.py
	$(PYTHON) tools/gen_operation_fixtures.py
	$(PYTHON) tools/gen_optimizer_state_fixtures.py
	$(PYTHON) tools/gen_regression_fixtures.py
	$(PYTHON) tools/gen_demo_model.py

# Retrains the bundled Keras models of models/ (models/README.md; about 15 minutes on 2 cores).
models: build
	KERAS_DELTA_CLI=.build/release/keras-delta $(PYTHON) tools/gen_bundled_models.py --synth .build/bundled-data

# REPRODUCTION.md and docs/reproduction/ from real refinement runs (about 2 hours on 2 cores).
reproduction: build
	$(PYTHON) tools/reproduce.py

clean:
	rm -rf .build
