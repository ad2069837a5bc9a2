# tacjax: one command to set up and run the main job, one to set up and run every test.
#   make run    # venv + install + the main job (reproduction study on data that needs no download)
#                 make run DATA_DIR=/path/to/idx  points it at MNIST/Fashion-MNIST copies
#   make test   # venv + install + ruff + the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Fastest correct CPU configuration (see README, "Performance"): tcmalloc + Eigen convolutions.
TUNED := $(PY) -m tacjax.runtime --exec

.PHONY: install system-deps run test lint bench bench-sparse bench-backends bench-peers clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,mlx,train]'
	touch $@

install: $(VENV)/.installed

# Optional system packages, skipped quietly without root or apt: tcmalloc (JAX), OpenBLAS (MLX) and
# Debian's Fashion-MNIST (/usr/share/datasets/fashion-mnist, found by tacjax.data without a download).
SYSTEM_PKGS := libtcmalloc-minimal4 libopenblas0-pthread dataset-fashion-mnist
system-deps:
	-@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q $(SYSTEM_PKGS) >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(SYSTEM_PKGS) >/dev/null 2>&1) || \
	  echo "note: could not install $(SYSTEM_PKGS); running without them"; fi

run: install system-deps
	$(TUNED) scripts/reproduce.py $(if $(DATA_DIR),--data-dir $(DATA_DIR))

bench: install system-deps
	$(PY) scripts/bench_tac.py

bench-sparse: install system-deps
	$(TUNED) scripts/bench_sparse.py

bench-backends: install system-deps
	$(TUNED) scripts/bench_backends.py

# tacjax vs plain JAX (and snnTorch, SpikingJelly, spyx where installed: pip install '.[peers]');
# the script sets threads, tcmalloc and the XLA flag for every worker itself. PEERS_ARGS adds options.
bench-peers: install system-deps
	$(PY) scripts/bench_peers.py $(PEERS_ARGS)

lint: install
	$(VENV)/bin/ruff check tacjax tests scripts

# The tests run with tcmalloc preloaded when it is installed (about 15% faster; found on the paths
# that tacjax.runtime.find_tcmalloc searches) and without it otherwise; they never set XLA_FLAGS.
TCMALLOC := $(firstword $(wildcard /usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4 \
	/usr/lib/libtcmalloc_minimal.so.4 /usr/lib64/libtcmalloc_minimal.so.4))

test: install
	$(VENV)/bin/ruff check tacjax tests scripts
	$(if $(TCMALLOC),LD_PRELOAD=$(TCMALLOC)$${LD_PRELOAD:+:$$LD_PRELOAD}) $(PY) -m pytest -q -n 2 tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
