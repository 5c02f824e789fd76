# The two set-up commands of the README: `make demo` and `make test`.
# Both work on a fresh Debian machine, as root or as a user with sudo.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8888
# torch comes from PyTorch's CPU-only index: from PyPI it is a multi-GB CUDA build. Where that
# index cannot be reached, pip goes on with the indexes it is configured with (one retry per
# package, not five: an unreachable index then costs seconds, not minutes).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo demo-install test install prereqs js chromium postgresql lint unit jstest e2e screenshots bench clean

# A fresh Debian lacks venv and Node.js; bring them from Debian's packages when missing.
prereqs:
	@command -v npm >/dev/null && $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	  python3 python3-venv python3-pip nodejs npm >/dev/null; }

$(VENV)/bin/activate: | prereqs
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip

node_modules/.bin/esbuild: package.json | prereqs
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	touch $@

js: node_modules/.bin/esbuild
	npm run --silent build

# Everything the tests need, the embeddings extra (torch) included.
install: $(VENV)/bin/activate js
	$(PIP) install -q --retries 1 --extra-index-url $(TORCH_INDEX) 'torch==2.13.0'
	$(PIP) install -q -e '.[test,embeddings,spacy,postgres]'

# Only what the example notebooks need (the `demo` extra: JupyterLab, spaCy): no test tools, no torch.
demo-install: $(VENV)/bin/activate js
	$(PIP) install -q -e '.[demo]'

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The PostgreSQL store's tests start their own server from Debian's binaries (not a service).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# JupyterLab serves example_notebooks/ and opens on the quickstart: the URL it prints (with its
# token) is the quickstart's. Ctrl+C twice stops it.
demo: demo-install
	@echo "nblabel demo: open the URL below that ends in 01_quickstart.ipynb?token=... (Ctrl+C twice stops)"
	$(VENV)/bin/jupyter lab --no-browser --ip=$(HOST) --port=$(PORT) \
	  --ServerApp.root_dir=example_notebooks --LabApp.default_url=/lab/tree/01_quickstart.ipynb \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

lint: install
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/ruff format --check src tests benchmarks tools
	$(VENV)/bin/lint-imports --no-cache

unit: install postgresql
	$(PY) -m pytest -q tests -m "not browser"

jstest: node_modules/.bin/esbuild
	node --test js/lib/ js/crowd/

e2e: install chromium
	$(PY) -m pytest -q tests -m browser

# Three pytest processes on two cores: most of a browser test's time is waiting on a kernel, a
# page or a server, so a third process fills the gaps. Every test is xdist-safe (free ports,
# temporary folders); each process starts its own Jupyter, PostgreSQL and S3 servers. The 25
# slowest tests are listed at the end: test time is CI's scarcest resource. One OpenBLAS thread
# per process (the servers and kernels the tests start inherit it): three processes on two
# cores keep both busy, and OpenBLAS's threads, waiting on each other on a busy machine, made
# small fits up to 100x slower (see nblabel.autolabel.worker.run_round).
test: install chromium postgresql lint jstest
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -n 3 --dist worksteal --durations=25 tests

# The browser tests save their pictures into the ignored test-screenshots/, so `make test`
# changes no tracked file; this runs the ones that take a picture again, saving into docs/img.
screenshots: install chromium
	$(PY) -m pytest -q tests/e2e -m screenshots --screenshot-dir docs/img

# Benchmarks are modules of the `benchmarks` package, run from the repository root.
bench: install chromium
	$(PY) -m benchmarks.ui_latency
	$(PY) -m benchmarks.scale

clean:
	rm -rf $(VENV) node_modules src/nblabel/static
